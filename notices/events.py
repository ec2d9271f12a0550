"""Who hears of what: the events of the review workflow and of entry deadlines, one per
person, recorded in the caller's transaction and mailed after it commits (notices.mail)."""

from enum import StrEnum

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse

from branches.models import Membership
from branches.people import display_name
from branches.roles import ADMIN_GROUP
from notices import mail
from notices.models import Event

RECENT = 5


class Audience(StrEnum):
    """Who hears of a workflow step (kpis.entry.services.TRANSITIONS names it per step)."""

    MANAGERS = "managers"  # the branch's managers
    ADMINS = "admins"  # 本部管理者


AGAIN = "直して、もう一度提出してください。"
WORKFLOW_MESSAGES = {
    Event.Kind.SUBMIT: "{what}の実施状況が提出されました。確認して公表するか差し戻してください。",
    Event.Kind.RETURN: "{what}の実施状況が本部から差し戻されました。" + AGAIN,
    Event.Kind.PUBLISH: "{what}の実施状況が公表されました。評議員が閲覧できます。",
    Event.Kind.REOPEN: "{what}の実施状況の公表を本部が取り消しました。" + AGAIN,
}


def branch_managers(branch):
    return get_user_model().objects.filter(
        is_active=True, membership__branch=branch, membership__role=Membership.Role.MANAGER
    )


def branch_members(branch):
    return get_user_model().objects.filter(is_active=True, membership__branch=branch)


def admins():
    """本部管理者: the group's members and superusers (branches.roles.is_admin)."""
    users = get_user_model().objects.filter(is_active=True)
    return users.filter(Q(is_superuser=True) | Q(groups__name=ADMIN_GROUP)).distinct()


def audience(who: Audience, plan):
    return branch_managers(plan.branch) if who is Audience.MANAGERS else admins()


def record(recipients, kind: str, subject: str, message: str, link: str, plan=None) -> list:
    """One event per recipient, mailed once the current transaction commits."""
    events = Event.objects.bulk_create(
        [
            Event(recipient=user, kind=kind, subject=subject, message=message, link=link, plan=plan)
            for user in recipients
        ]
    )
    mail.send_after_commit(events)
    return events


def workflow_step(plan, kind: str, who: Audience, actor, reason: str) -> list:
    """The events of a workflow step (提出, 差し戻し, 公表, 公表の取り消し) for its audience,
    the person who took it left out."""
    branch, fiscal_year = plan.branch, plan.fiscal_year
    what = f"{branch.name} {fiscal_year.era_label}"
    label = Event.Kind(kind).label
    lines = [WORKFLOW_MESSAGES[kind].format(what=what)]
    if reason:
        lines.append(f"理由: {reason}")
    lines.append(f"操作した人: {display_name(actor)}")
    link = reverse("entry:grid", args=[branch.code, fiscal_year.start_year])
    others = audience(who, plan).exclude(pk=actor.pk)
    return record(others, kind, f"{what}: {label}", "\n".join(lines), link, plan)


def recent(user) -> list[Event]:
    """The person's latest events for the home page (one query)."""
    if not user.is_authenticated:
        return []
    return list(Event.objects.filter(recipient=user).order_by("-created_at", "-pk")[:RECENT])
