"""The audit trail (変更履歴) read from django-simple-history's tables: who changed which
monthly value, annual actual, target or mark, when, from what to what, and why (the change
reason says "画面入力", a manager's reason, or "取り込み #N" for an import batch).

Each history row is compared with the previous row of the same object, in one pass over
rows loaded with a fixed number of queries (no per-row `prev_record` look-ups).
"""

from dataclasses import dataclass
from datetime import datetime

from branches.people import display_name
from branches.transfers import branch_name_then
from kpis.models import Activity, BranchPlan, Kpi, Measure, MonthlyValue
from kpis.notation import as_written
from kpis.vocabulary import circled

# KPI fields a person can change (the rest is derived from these texts).
KPI_FIELDS = [
    ("target_text", "目標"),
    ("actual_text", "年度実績"),
    ("mark", "結果"),
    ("mark_source", "結果の根拠"),
    ("mark_reason", "結果の理由"),
    ("previous_actual_text", "前年度実績"),
    ("national_average_text", "全国平均"),
    ("national_rank", "全国順位"),
    ("note", "備考"),
]
# Fields that hold a value as written: shown as pages show values (`９６．５％` → `96.5%`).
WRITTEN_FIELDS = {"target_text", "actual_text", "previous_actual_text", "national_average_text"}
# A new KPI's fields that still hold these defaults are not news in the trail.
KPI_DEFAULTS = {
    "mark": Kpi._meta.get_field("mark").default,
    "mark_source": Kpi._meta.get_field("mark_source").default,
}
MARK_SOURCES = dict(Kpi.MarkSource.choices)
PLAN_STATUSES = dict(BranchPlan.Status.choices)
# The branch's own report: the fields the branch writes on the measure page.
MEASURE_FIELDS = [("narrative", "実施状況"), ("challenges", "課題")]
ACTIVITY_FIELDS = [("mark", "事業内容の結果")]
# How long a measure's title or an activity's text may run in the 対象 column.
SUBJECT_TEXT = 30
SERIES = dict(MonthlyValue.Series.choices)


@dataclass(frozen=True)
class Change:
    when: datetime
    who: str
    subject: str  # 生活習慣病予防健診実施率 4月（単月）, 支部事業計画 …
    field: str
    old: str
    new: str
    reason: str
    kpi_id: int | None = None
    month: int | None = None


def _who(record) -> str:
    return (display_name(record.history_user) or "—") + at_the_time(record)


def _shown(value) -> str:
    if value is None or value == "":
        return "（空欄）"
    return str(value)


def _written(text: str) -> str:
    return as_written(text) if text else ""


def monthly_changes(records, kpis: dict[int, Kpi]) -> list[Change]:
    changes = []
    previous = {}
    for record in records:
        before = previous.get(record.id)
        previous[record.id] = record
        kpi = kpis.get(record.kpi_id)
        if kpi is None:
            continue
        old = "" if before is None else before.text
        deleted = record.history_type == "-"
        if before is not None and not deleted and old == record.text:
            continue
        changes.append(
            Change(
                when=record.history_date,
                who=_who(record),
                subject=f"{kpi.indicator.name} {record.month}月（{SERIES.get(record.series, '')}）",
                field="月次実績",
                old=_shown(_written(old)),
                new="（削除）" if deleted else _shown(_written(record.text)),
                reason=record.history_change_reason or "",
                kpi_id=record.kpi_id,
                month=record.month,
            )
        )
    return changes


def _kpi_value(record, field: str) -> str:
    value = getattr(record, field)
    if field == "mark_source":
        return MARK_SOURCES.get(value, value)
    return "" if value is None else str(value)


def kpi_changes(records, kpis: dict[int, Kpi]) -> list[Change]:
    changes = []
    previous = {}
    for record in records:
        before = previous.get(record.id)
        previous[record.id] = record
        kpi = kpis.get(record.id)
        subject = kpi.indicator.name if kpi else f"KPI #{record.id}（削除済み）"
        for field, label in KPI_FIELDS:
            if before is None and getattr(record, field) == KPI_DEFAULTS.get(field):
                continue
            new = _kpi_value(record, field)
            old = _kpi_value(before, field) if before else ""
            if old == new:
                continue
            changes.append(
                Change(
                    when=record.history_date,
                    who=_who(record),
                    subject=subject,
                    field=label,
                    old=_shown(_written(old) if field in WRITTEN_FIELDS else old),
                    new=_shown(_written(new) if field in WRITTEN_FIELDS else new),
                    reason=record.history_change_reason or "",
                    kpi_id=record.id,
                )
            )
    return changes


def plan_changes(records) -> list[Change]:
    changes = []
    previous = {}
    for record in records:
        before = previous.get(record.id)
        previous[record.id] = record
        old = PLAN_STATUSES.get(before.status, before.status) if before else ""
        new = PLAN_STATUSES.get(record.status, record.status)
        if old == new:
            continue
        changes.append(
            Change(
                when=record.history_date,
                who=_who(record),
                subject="支部事業計画",
                field="状態",
                old=_shown(old),
                new=_shown(new),
                reason=record.history_change_reason or "",
            )
        )
    return changes


def _short(text: str) -> str:
    return text if len(text) <= SUBJECT_TEXT else text[:SUBJECT_TEXT] + "…"


def _measure_subject(measure) -> str:
    """`1-(2) 特定健診の受診勧奨…`; a measure deleted since has no subject of its own."""
    if measure is None:
        return "施策（削除済み）"
    return f"{measure.pillar.number}-{measure.number_label} {_short(measure.title)}"


def _report_changes(records, fields, subject) -> list[Change]:
    """The changes of the report's fields, each history row against the one before."""
    changes = []
    previous = {}
    for record in records:
        before = previous.get(record.id)
        previous[record.id] = record
        for name, label in fields:
            new, old = getattr(record, name), getattr(before, name) if before else ""
            if old == new or record.history_type == "-":
                continue
            changes.append(
                Change(
                    when=record.history_date,
                    who=_who(record),
                    subject=subject(record),
                    field=label,
                    old=_shown(old),
                    new=_shown(new),
                    reason=record.history_change_reason or "",
                )
            )
    return changes


def measure_changes(records) -> list[Change]:
    """Measures' 実施状況 and 課題, from history rows with their pillar selected."""
    return _report_changes(records, MEASURE_FIELDS, _measure_subject)


def activity_changes(records) -> list[Change]:
    """Activities' marks, from history rows with their measure and its pillar selected."""

    def subject(record):
        return f"{_measure_subject(record.measure)} {circled(record.number)} {_short(record.text)}"

    return _report_changes(records, ACTIVITY_FIELDS, subject)


def measure_records(measure) -> tuple[list, list]:
    """The history rows of a measure and of its activities, oldest first (2 queries)."""
    measures = _ordered(Measure.history.filter(id=measure.pk)).select_related("pillar")
    activities = _ordered(Activity.history.filter(measure_id=measure.pk))
    return list(measures), list(activities.select_related("measure__pillar"))


def measure_history(measure_records, activity_records) -> list[Change]:
    """The changes of a measure's texts and its activities' marks, newest first."""
    return _newest_first(measure_changes(measure_records) + activity_changes(activity_records))


def at_the_time(record) -> str:
    """`（当時 埼玉支部）`: the branch the person belonged to when they saved the row (a
    transfer since does not move their past saves); empty for someone of no branch."""
    branch = getattr(record, "branch_then", None)
    return f"（当時 {branch}）" if branch else ""


def _ordered(queryset):
    return (
        queryset.select_related("history_user")
        .annotate(branch_then=branch_name_then())
        .order_by("id", "history_date", "history_id")
    )


def _newest_first(changes: list[Change]) -> list[Change]:
    return sorted(changes, key=lambda change: change.when, reverse=True)


def branch_year_changes(branch, fiscal_year, kpis: dict[int, Kpi]) -> list[Change]:
    """Every change to the branch × year's values, KPIs, plan, measures' texts and
    activities' marks, newest first (5 queries)."""
    year = {"branch_id": branch.pk, "fiscal_year_id": fiscal_year.pk}
    monthly = _ordered(MonthlyValue.history.filter(kpi_id__in=list(kpis)))
    kpi_records = _ordered(Kpi.history.filter(**year))
    plans = _ordered(BranchPlan.history.filter(**year))
    measures = _ordered(Measure.history.filter(**year)).select_related("pillar")
    activities = _ordered(
        Activity.history.filter(measure_id__in=Measure.history.filter(**year).values("id"))
    ).select_related("measure__pillar")
    return _newest_first(
        monthly_changes(monthly, kpis)
        + kpi_changes(kpi_records, kpis)
        + plan_changes(plans)
        + measure_changes(measures)
        + activity_changes(activities)
    )


def kpi_history(kpi: Kpi) -> list[Change]:
    """Every change to one KPI and its monthly values, newest first (2 queries)."""
    kpis = {kpi.pk: kpi}
    monthly = _ordered(MonthlyValue.history.filter(kpi_id=kpi.pk))
    kpi_records = _ordered(Kpi.history.filter(id=kpi.pk))
    return _newest_first(monthly_changes(monthly, kpis) + kpi_changes(kpi_records, kpis))


def cell_history(kpi: Kpi, month: int, series: str) -> list[Change]:
    kpis = {kpi.pk: kpi}
    monthly = _ordered(MonthlyValue.history.filter(kpi_id=kpi.pk, month=month, series=series))
    return _newest_first(monthly_changes(monthly, kpis))
