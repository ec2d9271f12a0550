"""Previews do not wait forever: one older than a day, or superseded by a later commit of
any of its branches and years (its diff no longer says what a confirm would change),
expires, and its stored file is cleared."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from imports.models import ImportBatch

MAX_AGE = timedelta(days=1)
OPEN = (ImportBatch.Status.PREVIEWED, ImportBatch.Status.REJECTED)


def expire_previews(now=None) -> int:
    """Expire old and superseded previews; the number expired. One query when none is due:
    open previews and the last day's commits (an older preview expires by its age anyway)."""
    now = now or timezone.now()
    since = now - MAX_AGE
    batches = ImportBatch.objects.filter(
        Q(status__in=OPEN) | Q(status=ImportBatch.Status.COMMITTED, committed_at__gt=since)
    ).values_list("pk", "status", "created_at", "committed_at", "scope")
    previews, commits = [], []
    for pk, status, created_at, committed_at, scope in batches:
        pairs = {tuple(pair) for pair in scope}
        if status == ImportBatch.Status.COMMITTED:
            commits.append((committed_at, pairs))
        else:
            previews.append((pk, created_at, pairs))
    expired = [
        pk
        for pk, created_at, pairs in previews
        if created_at < since or any(when > created_at and pairs & done for when, done in commits)
    ]
    if not expired:
        return 0
    # Conditional on the status: a preview confirmed meanwhile is no longer open.
    return ImportBatch.objects.filter(pk__in=expired, status__in=OPEN).update(
        status=ImportBatch.Status.EXPIRED, content=b"", diff=[], diff_total=0
    )
