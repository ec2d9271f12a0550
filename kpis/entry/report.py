"""The branch's own report (実施状況) entered in the app: each activity's mark, each measure's
実施状況 and 課題, and a KPI's 備考.

The branch's staff and managers enter them alike, and head office too: what staff enter is
theirs in the history, for the manager to review before 提出. A submitted or published
plan is read-only for the branch, as its monthly values are (EntryScope.year_lock).
Everything is written through kpis.writes, which keeps the history and refuses stale forms.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone

from kpis import writes
from kpis.entry import audit, services
from kpis.entry.services import EntryLocked, EntryScope, InvalidInput
from kpis.models import Activity, Kpi, Measure
from kpis.vocabulary import circled

# 実施状況, 課題 and 備考 hold a few paragraphs; a page of text is plenty.
MAX_TEXT = 4000


def clean_text(text: str) -> str:
    """A textarea's text as stored: line breaks as \\n, no trailing blanks; a leading
    full-width space (a paragraph's indent) stays."""
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip()


def measure_label(measure: Measure) -> str:
    """`2-(1)`: the pillar's number and the measure's, as the pages name a measure."""
    return f"{measure.pillar.number}-{measure.number_label}"


def activity_label(measure: Measure, activity: Activity) -> str:
    return f"{measure_label(measure)} {circled(activity.number)}"


def measure_for(scope: EntryScope, pk: int) -> Measure:
    """The measure of this branch × year, or 404."""
    return get_object_or_404(
        Measure.objects.select_related("pillar"),
        pk=pk,
        branch=scope.branch,
        fiscal_year=scope.fiscal_year,
    )


@dataclass
class MeasurePage:
    """What the measure page shows: the activities and KPIs, each row's stamp and latest
    change (who, when), and the changes of the measure's texts and activities' marks."""

    measure: Measure
    activities: list[Activity]
    kpis: list[Kpi]
    stamps: dict = field(default_factory=dict)  # (model, pk) → latest history id, 0: none
    latest: dict = field(default_factory=dict)  # (model, pk) → latest history record
    changes: list = field(default_factory=list)

    def stamp(self, row) -> int:
        return self.stamps.get((type(row), row.pk), 0)

    def last_change(self, row) -> str:
        """`担当 太郎 2024-05-10 09:12`: who changed the row last (an import without a
        person: its reason), and when; blank without history."""
        record = self.latest.get((type(row), row.pk))
        if record is None:
            return ""
        who = record.history_user
        name = services._person(who) if who else record.history_change_reason or "—"
        return f"{name} {timezone.localtime(record.history_date):%Y-%m-%d %H:%M}"


def measure_page(measure: Measure) -> MeasurePage:
    """Four queries, however many activities and changes."""
    activities = list(measure.activities.order_by("number"))
    kpis = list(measure.kpis.select_related("indicator").order_by("order", "pk"))
    measure_records, activity_records = audit.measure_records(measure)
    page = MeasurePage(measure, activities, kpis)
    for model, records in ((Measure, measure_records), (Activity, activity_records)):
        for record in records:
            key = (model, record.id)
            if record.history_id > page.stamps.get(key, 0):
                page.stamps[key], page.latest[key] = record.history_id, record
    page.changes = audit.measure_history(measure_records, activity_records)
    return page


@dataclass(frozen=True)
class Problem:
    """Why one field of a row was not saved: `name` is the model field, `subject` how
    the page names that field."""

    row: Measure | Activity
    name: str
    subject: str
    detail: str
    conflict: bool = False

    @property
    def message(self) -> str:
        return f"{self.subject}: {self.detail}"


class ReportRefused(Exception):
    """Nothing was saved; every problem found is listed."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(p.message for p in problems))
        self.problems = problems

    @property
    def has_conflict(self) -> bool:
        return any(p.conflict for p in self.problems)


def save_measure_report(
    scope: EntryScope, measure: Measure, edits: list[writes.ReportEdit]
) -> list:
    """Save what the person changed on the measure page, all or nothing; returns the rows
    written. Raises EntryLocked (the plan or year is read-only for them) or ReportRefused
    (a mark that is not one, or a row someone else changed since the page was shown)."""
    if lock := scope.year_lock():
        raise EntryLocked(lock)
    source = writes.Source(writes.Channel.ENTRY, scope.user)
    try:
        with transaction.atomic():
            services._recheck_lock(scope)
            return writes.save_report(edits, source)
    except writes.Refused as refused:
        raise ReportRefused(
            [
                Problem(f.key.row, name, subject(measure, f.key.row, name), f.message)
                for f in refused.findings
                for name in f.key.values
            ]
        ) from refused
    except writes.StampMoved as moved:
        raise ReportRefused(
            [
                Problem(
                    edit.row,
                    name,
                    subject(measure, edit.row, name),
                    _moved(moved.latest[id(edit)]),
                    conflict=True,
                )
                for edit in moved.edits
                for name in edit.values
            ]
        ) from moved


def subject(measure: Measure, row, name: str) -> str:
    """How messages name a field: `1-(2) ③ 結果`, `1-(2) 実施状況`."""
    label = writes.REPORT_FIELDS[type(row)][name]
    if isinstance(row, Activity):
        return f"{activity_label(measure, row)} {label}"
    return f"{measure_label(measure)} {label}"


def _moved(record) -> str:
    """A conflict in words: who changed the row, when, and what to do."""
    if record is None or record.history_type == "-":
        return "削除されています。ページを開き直してください。"
    when = timezone.localtime(record.history_date).strftime("%Y-%m-%d %H:%M")
    return (
        f"ほかの人が先に変更しました（{services._person(record.history_user)}、{when}）。"
        "あなたの入力は保存していません。現在の内容を確認してから、もう一度保存してください。"
    )


def save_kpi_note(scope: EntryScope, kpi: Kpi, note: str, stamp: int) -> Kpi | None:
    """The KPI's 備考, written by save_kpis (its version and history move, its evaluation
    stays right); None when it was already so. A KPI changed since its page was shown (its
    history stamp moved) is refused with who changed it."""
    if lock := scope.year_lock():
        raise EntryLocked(lock)
    note = clean_text(note)
    with transaction.atomic():
        services._recheck_lock(scope)
        current = (
            Kpi.objects.select_for_update()
            .select_related("indicator", "fiscal_year")
            .get(pk=kpi.pk)
        )
        if current.note == note:
            return None
        if services.history_stamp(current) != stamp:
            latest = Kpi.history.filter(id=kpi.pk).select_related("history_user").latest()
            raise InvalidInput(f"{kpi.indicator.name} 備考: {_moved(latest)}")
        current.note = note
        writes.save_kpis([current], writes.Source(writes.Channel.ENTRY, scope.user))
    return current
