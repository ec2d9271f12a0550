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
from kpis.models import BranchPlan, Kpi, MonthlyValue
from kpis.notation import as_written

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
    return display_name(record.history_user) or "—"


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
    """Every change to the branch × year's values, KPIs and plan, newest first (3 queries)."""
    monthly = _ordered(MonthlyValue.history.filter(kpi_id__in=list(kpis)))
    kpi_records = _ordered(Kpi.history.filter(branch_id=branch.pk, fiscal_year_id=fiscal_year.pk))
    plans = _ordered(BranchPlan.history.filter(branch_id=branch.pk, fiscal_year_id=fiscal_year.pk))
    return _newest_first(
        monthly_changes(monthly, kpis) + kpi_changes(kpi_records, kpis) + plan_changes(plans)
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
