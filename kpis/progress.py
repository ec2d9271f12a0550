"""Entry progress (入力状況): which branches have entered which months of a fiscal year.

A cell is one branch × month: how many of the branch's monthly-reported KPIs
(`Indicator.reported_monthly`; yearly indicators never count as missing) have a value for
the month in their own series (the one the entry grid writes, by the indicator's
aggregation). A month is overdue once its entry deadline has passed and the cell is not
complete. Plain functions over aggregate queries: five queries whatever the number of
branches, KPIs and years.
"""

import csv
import datetime
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce

from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from branches.models import Branch, Region
from branches.roles import is_admin, membership_of
from kpis import vocabulary
from kpis.eras import FISCAL_MONTHS
from kpis.exports import neutralise, write_xlsx
from kpis.models import BranchPlan, FiscalYear, Kpi, MonthlyValue

OVERDUE = "締切超過"


class ProgressRefused(Exception):
    """The reader may not open the entry progress (the message says who may)."""


def progress_branches(user):
    """The branches whose progress `user` reads: every branch for head office, their own for
    a branch manager. Anyone else is refused."""
    if is_admin(user):
        return Branch.objects.all()
    membership = membership_of(user)
    if membership is not None and membership.is_manager:
        return Branch.objects.filter(pk=membership.branch_id)
    raise ProgressRefused("入力状況は本部管理者と支部の管理者（自支部のみ）が閲覧できます。")


def default_year(years: list[FiscalYear]) -> FiscalYear | None:
    """The newest open year, else the newest year."""
    return next((y for y in years if y.is_open), years[0] if years else None)


@dataclass(frozen=True)
class MonthCell:
    month: int
    entered: int
    total: int
    overdue: bool

    @property
    def complete(self) -> bool:
        return self.entered >= self.total

    @property
    def text(self) -> str:
        return f"{self.entered} / {self.total}" if self.total else "—"

    @property
    def written(self) -> str:
        """The cell as the downloads write it: `2 / 5 締切超過`."""
        return f"{self.text} {OVERDUE}" if self.overdue else self.text


@dataclass
class BranchProgress:
    branch: Branch
    plan: BranchPlan | None
    cells: list[MonthCell]
    last_entry: MonthlyValue | None = None

    @property
    def status_label(self) -> str:
        # A branch without a plan row has submitted nothing: it is a draft (as on the grid).
        return self.plan.get_status_display() if self.plan else BranchPlan.Status.DRAFT.label

    @property
    def overdue_months(self) -> int:
        return sum(cell.overdue for cell in self.cells)

    @property
    def last_entry_by(self) -> str:
        user = self.last_entry.updated_by if self.last_entry else None
        if user is None:
            return ""
        return user.get_full_name() or user.get_username()


@dataclass
class ProgressMatrix:
    fiscal_year: FiscalYear
    # (calendar month, its entry deadline or None), in fiscal order.
    months: list[tuple[int, datetime.date | None]]
    rows: list[BranchProgress] = field(default_factory=list)


def _series_rule() -> Q:
    """A monthly value in the series its indicator is entered in."""
    by_series = defaultdict(list)
    for aggregation, series in vocabulary.SERIES_BY_AGGREGATION.items():
        by_series[series].append(aggregation)
    return reduce(
        operator.or_,
        (
            Q(series=series, kpi__indicator__aggregation__in=aggregations)
            for series, aggregations in by_series.items()
        ),
    )


def progress_matrix(
    fiscal_year: FiscalYear, branches, today: datetime.date, region: str = ""
) -> ProgressMatrix:
    """Branches (a queryset from `progress_branches`) × months of `fiscal_year`."""
    if region:
        branches = branches.filter(region=region)
    year_values = MonthlyValue.objects.filter(kpi__fiscal_year=fiscal_year)
    latest = year_values.filter(kpi__branch=OuterRef("pk")).order_by("-updated_at", "-pk")
    branch_list = list(branches.annotate(last_value=Subquery(latest.values("pk")[:1])))
    branch_ids = [branch.pk for branch in branch_list]

    monthly_kpis = Kpi.objects.filter(
        fiscal_year=fiscal_year, branch_id__in=branch_ids, indicator__reported_monthly=True
    )
    totals = dict(
        monthly_kpis.values("branch_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("branch_id", "n")
    )
    entered = defaultdict(dict)
    counted = (
        year_values.filter(
            _series_rule(),
            kpi__branch_id__in=branch_ids,
            kpi__indicator__reported_monthly=True,
        )
        .exclude(text="")
        .values("kpi__branch_id", "month")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("kpi__branch_id", "month", "n")
    )
    for branch_id, month, number in counted:
        entered[branch_id][month] = number
    plans = {
        plan.branch_id: plan
        for plan in BranchPlan.objects.filter(fiscal_year=fiscal_year, branch_id__in=branch_ids)
    }
    last_ids = [branch.last_value for branch in branch_list if branch.last_value]
    last_values = MonthlyValue.objects.filter(pk__in=last_ids).select_related("updated_by")
    last_of = {value.pk: value for value in last_values}

    months = [(month, fiscal_year.entry_deadline(month)) for month in FISCAL_MONTHS]
    matrix = ProgressMatrix(fiscal_year, months)
    for branch in branch_list:
        total = totals.get(branch.pk, 0)
        cells = []
        for month, deadline in months:
            number = entered[branch.pk].get(month, 0)
            late = deadline is not None and today > deadline and number < total
            cells.append(MonthCell(month, number, total, late))
        matrix.rows.append(
            BranchProgress(branch, plans.get(branch.pk), cells, last_of.get(branch.last_value))
        )
    return matrix


# --- downloads ----------------------------------------------------------------------------


def month_heading(month: int, deadline: datetime.date | None) -> str:
    if deadline is None:
        return f"{month}月"
    return f"{month}月（締切 {deadline.month}/{deadline.day}）"


def download_rows(matrix: ProgressMatrix) -> tuple[list[str], list[list]]:
    """The matrix as the page shows it: (header, rows)."""
    header = [
        "支部コード",
        "支部",
        "地域ブロック",
        "状態",
        *(month_heading(month, deadline) for month, deadline in matrix.months),
        "締切超過の月数",
        "最終入力日時",
        "最終入力者",
    ]
    rows = []
    for row in matrix.rows:
        last = row.last_entry
        rows.append(
            [
                row.branch.code,
                row.branch.name,
                Region(row.branch.region).label,
                row.status_label,
                *(cell.written for cell in row.cells),
                row.overdue_months,
                _local(last.updated_at) if last else "",
                row.last_entry_by,
            ]
        )
    return header, rows


def _local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def write_csv(matrix: ProgressMatrix, fileobj) -> None:
    header, rows = download_rows(matrix)
    fileobj.write("\ufeff")  # Excel reads UTF-8 with its mark
    writer = csv.writer(fileobj, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])


def write_workbook(matrix: ProgressMatrix, fileobj) -> None:
    header, rows = download_rows(matrix)
    write_xlsx(fileobj, [("入力状況", header, rows)])
