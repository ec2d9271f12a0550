"""Password mails through the task queue (django-tasks; the worker `manage.py import_worker`
sends them): the reset a person asks for, and the invitation a new account gets from the
users import. Queued once the request's transaction commits, so a slow mail server never
holds a page.

The queue keeps only the user's id and the site's address: the one-time link is made when
the mail is sent, so no reset token is stored in the task table. (notices.mail sends a
person's recorded events, whose text stays on their home page: no place for a token.)
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

SITE_NAME = "支部KPI管理"
# kind → (subject template, body template)
MAILS = {
    "reset": (
        "registration/password_reset_subject.txt",
        "registration/password_reset_email.html",
    ),
    "invitation": (
        "registration/password_reset_invitation_subject.txt",
        "registration/password_reset_invitation_email.txt",
    ),
}


def send_after_commit(user, kind: str, domain: str, protocol: str) -> None:
    transaction.on_commit(
        lambda: send_password_mail.enqueue(user.pk, kind, domain, protocol), robust=True
    )


@task()
def send_password_mail(user_pk: int, kind: str, domain: str, protocol: str) -> str:
    """Send one person the link to set their password; "sent" or "skipped"."""
    user = get_user_model().objects.filter(pk=user_pk, is_active=True).first()
    if user is None or not user.email:
        return "skipped"
    context = {
        "email": user.email,
        "domain": domain,
        "site_name": SITE_NAME,
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": protocol,
    }
    subject_template, body_template = MAILS[kind]
    subject = "".join(render_to_string(subject_template, context).splitlines())
    EmailMessage(subject, render_to_string(body_template, context), to=[user.email]).send()
    return "sent"
