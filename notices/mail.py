"""Mail for events: enqueued on the task queue (django-tasks; the database backend's worker,
`manage.py import_worker`, sends it) once the transaction that recorded the events commits,
so a slow or failing mail server never blocks or undoes the action.

A failed send is logged and retried by enqueueing the task again with the next attempt
number, after a growing delay where the backend can defer (the database backend), at once
where it cannot (the immediate backend of the tests), up to MAX_ATTEMPTS; then it is logged
as an error and given up. The event stays on the person's home page whatever happens.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from notices.models import Event

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
# Delay before attempt n+1: 1, 4, 16 minutes.
RETRY_BASE_SECONDS = 60
SIGNATURE = "\n\n-- \nこのメールは支部KPI管理から自動で送信しています。返信はできません。"


def send_after_commit(events: list[Event]) -> None:
    """Queue the mail of `events` once the current transaction commits (at once outside one).
    Nothing is queued if it rolls back; a failure to queue is logged, never raised."""
    pks = [event.pk for event in events if event.recipient.email]
    if pks:
        transaction.on_commit(lambda: _enqueue_all(pks), robust=True)


def _enqueue_all(pks: list[int]) -> None:
    for pk in pks:
        try:
            send_event_mail.enqueue(pk)
        except Exception:
            # The action has committed; the event stays on the home page.
            logger.exception("Mail for event #%s could not be queued", pk)


def absolute(link: str) -> str:
    return settings.KPI_SITE_URL.rstrip("/") + link if link else ""


def _message(event: Event) -> EmailMessage:
    body = event.message
    if event.link:
        body += f"\n\n{absolute(event.link)}"
    return EmailMessage(
        subject=f"[支部KPI管理] {event.subject}",
        body=body + SIGNATURE,
        to=[event.recipient.email],
    )


@task()
def send_event_mail(event_pk: int, attempt: int = 1) -> str:
    """Send one event's mail; what happened ("sent", "skipped", "retry", "failed")."""
    event = Event.objects.select_related("recipient").filter(pk=event_pk).first()
    if event is None or event.mailed_at or not event.recipient.email:
        return "skipped"
    try:
        _message(event).send()
    except Exception:
        # Any failure of the mail server or the connection to it (smtplib, ssl, socket).
        logger.warning(
            "Mail for event #%s to %s failed (attempt %s of %s)",
            event_pk,
            event.recipient.email,
            attempt,
            MAX_ATTEMPTS,
            exc_info=True,
        )
        return _retry(event_pk, attempt)
    Event.objects.filter(pk=event_pk).update(mailed_at=timezone.now())
    return "sent"


def _retry(event_pk: int, attempt: int) -> str:
    if attempt >= MAX_ATTEMPTS:
        logger.error("Mail for event #%s given up after %s attempts", event_pk, attempt)
        return "failed"
    retry = send_event_mail
    if retry.get_backend().supports_defer:
        delay = timedelta(seconds=RETRY_BASE_SECONDS * 4 ** (attempt - 1))
        retry = retry.using(run_after=timezone.now() + delay)
    try:
        retry.enqueue(event_pk, attempt + 1)
    except Exception:
        logger.exception("Mail for event #%s could not be queued again", event_pk)
        return "failed"
    return "retry"
