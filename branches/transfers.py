"""Transfers (異動): a person's branch and role change from a date, and the history stays.

Membership is a person's current place: every access rule reads it through
`branches.roles.membership_of`. Postings are the history of that place, one row per
posting with the moment it took over (`effective_at`).

- `transfer` records a posting. Dated today or earlier it takes effect at once: Membership is
  updated in the same transaction. Dated in the future it waits (applied False); from the
  start of its day (Asia/Tokyo) `current_membership` — what `membership_of` asks — already
  answers with it, so the person loses the old branch's drafts the moment the date comes
  even if the daily `apply_transfers` command has not run yet. The command then writes it
  into Membership, which lists of a branch's people read.
- A membership created or changed any other way (the Django admin, a factory) records a
  posting too (`_record_posting`), so the history has no gaps.
- `branch_name_then` is the branch a person belonged to at a history row's moment, as a
  query expression: a page of history rows costs no extra query.

Users are never deleted for a transfer or a departure: deactivating (is_active False) keeps
their name on everything they saved.
"""

import datetime

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from branches.models import Membership, Posting


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@transaction.atomic
def transfer(user, branch, role: str, starts_on: datetime.date, by=None) -> Posting:
    """Post `user` to `branch` as `role` from `starts_on`: at once when that day has come."""
    now = timezone.now()
    _record_first_posting(user)
    posting = Posting.objects.create(
        user=user,
        branch=branch,
        role=role,
        starts_on=starts_on,
        # Saves made earlier on the day it is recorded were made in the old branch.
        effective_at=max(_start_of(starts_on), now),
        recorded_by=by,
    )
    if posting.effective_at <= now:
        _apply(posting)
    return posting


def _record_first_posting(user) -> None:
    """A membership older than postings (or written without signals) gets its posting, from
    the day the account was made, before the first transfer moves it."""
    if Posting.objects.filter(user=user).exists():
        return
    membership = Membership.objects.filter(user=user).first()
    if membership is not None:
        Posting.objects.create(
            user=user,
            branch_id=membership.branch_id,
            role=membership.role,
            starts_on=timezone.localdate(user.date_joined),
            effective_at=user.date_joined,
            applied=True,
        )


def _apply(posting: Posting) -> None:
    # Marked first: the membership's own signal then finds the posting it is saving.
    Posting.objects.filter(
        user_id=posting.user_id, applied=False, effective_at__lte=posting.effective_at
    ).update(applied=True)
    Membership.objects.update_or_create(
        user_id=posting.user_id, defaults={"branch_id": posting.branch_id, "role": posting.role}
    )


def apply_due(now: datetime.datetime | None = None) -> list[Posting]:
    """Write every posting whose moment has come into Membership (the latest one per person);
    the postings written. Running it again writes nothing."""
    now = now or timezone.now()
    due = (
        Posting.objects.filter(applied=False, effective_at__lte=now)
        .select_related("user", "branch")
        .order_by("user_id", "effective_at", "pk")
    )
    latest = {posting.user_id: posting for posting in due}
    with transaction.atomic():
        for posting in latest.values():
            _apply(posting)
    return list(latest.values())


def current_membership(user) -> Membership | None:
    """The user's membership as it stands now, in one query: a transfer whose moment has come
    but that the daily command has not written yet already counts."""
    due = Posting.objects.filter(
        user=OuterRef("user"), applied=False, effective_at__lte=timezone.now()
    ).order_by("-effective_at", "-pk")
    membership = (
        Membership.objects.filter(user=user)
        .annotate(
            due_branch=Subquery(due.values("branch_id")[:1]),
            due_role=Subquery(due.values("role")[:1]),
        )
        .first()
    )
    if membership is not None and membership.due_branch is not None:
        membership.branch_id, membership.role = membership.due_branch, membership.due_role
    return membership


def branch_name_then(user_field: str = "history_user", moment_field: str = "history_date"):
    """The name of the branch the person of a row belonged to at the row's moment (None when
    they belonged to none), for `.annotate()` on a history queryset."""
    postings = Posting.objects.filter(
        user=OuterRef(user_field), effective_at__lte=OuterRef(moment_field)
    ).order_by("-effective_at", "-pk")
    return Subquery(postings.values("branch__name")[:1])


def upcoming() -> list[Posting]:
    """Transfers recorded but not yet written into Membership, soonest first."""
    postings = Posting.objects.filter(applied=False).select_related("user", "branch")
    return list(postings.order_by("effective_at", "pk"))


def postings_of(user) -> list[Posting]:
    """A person's postings, oldest first, with their branches."""
    return list(Posting.objects.filter(user=user).select_related("branch"))


@receiver(post_save, sender=Membership, dispatch_uid="record_posting")
def _record_posting(sender, instance: Membership, raw=False, **kwargs):
    """A membership saved outside `transfer` is a posting from now on, unless the posting in
    force already says the same."""
    if raw:
        return
    now = timezone.now()
    latest = (
        Posting.objects.filter(user_id=instance.user_id, effective_at__lte=now)
        .order_by("-effective_at", "-pk")
        .values_list("branch_id", "role")
        .first()
    )
    if latest != (instance.branch_id, instance.role):
        Posting.objects.create(
            user_id=instance.user_id,
            branch_id=instance.branch_id,
            role=instance.role,
            starts_on=timezone.localdate(now),
            effective_at=now,
            applied=True,
        )
