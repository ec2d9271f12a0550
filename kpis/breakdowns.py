"""Writing breakdown series (内訳, `MonthlyBreakdown`): part of the one write path, re-exported
by `kpis.writes`.

A breakdown is shown as written and never evaluated, so there is no value check and no
neighbour to evaluate again; what the write path keeps for it is the same bookkeeping as
for monthly values: every change raises the row's version (so an undo that saw an older
version finds out) and leaves one history row whose reason starts with the channel
(取り込み #N, 取り消し #N …), taken from the writer's `kpis.writes.Source`.
"""

from django.db import router, transaction
from django.db.models.deletion import Collector
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from kpis.models import MonthlyBreakdown

BATCH_SIZE = 500
# What a write sets; the key (kpi, series, label) never changes.
WRITTEN_FIELDS = ["order", "months", "year_figure", "year_figure_label", "note"]


def write_breakdowns(create: list, update: list, source) -> None:
    """Create and update breakdown rows the caller prepared (updated rows read in the same
    transaction), raising versions, with one history row each carrying `source.reason()`."""
    if not create and not update:
        return
    reason, user, now = source.reason(), source.history_user, timezone.now()
    with transaction.atomic():
        if create:
            for breakdown in create:
                breakdown.version = 1
            bulk_create_with_history(
                create,
                MonthlyBreakdown,
                batch_size=BATCH_SIZE,
                default_user=user,
                default_change_reason=reason,
                default_date=now,
            )
        if update:
            for breakdown in update:
                breakdown.version += 1
                breakdown.updated_at = now
            bulk_update_with_history(
                update,
                MonthlyBreakdown,
                [*WRITTEN_FIELDS, "version", "updated_at"],
                batch_size=BATCH_SIZE,
                default_user=user,
                default_change_reason=reason,
                default_date=now,
            )


def delete_breakdowns(breakdowns: list, source) -> None:
    """Delete with django-simple-history's "-" rows carrying the reason."""
    if not breakdowns:
        return
    for breakdown in breakdowns:
        breakdown._change_reason = source.reason()
        breakdown._history_user = source.history_user
    with transaction.atomic():
        collector = Collector(using=router.db_for_write(MonthlyBreakdown))
        collector.collect(breakdowns)
        collector.delete()
