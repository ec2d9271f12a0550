"""What the reading pages show, computed from the rows the reader may see.

Plain functions over querysets: each page's data comes from a fixed number of queries,
however many branches, KPIs and years there are. Every queryset goes through
`kpis.access.visible`, so aggregates count only what the reader could open.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db.models import Count, Max, Prefetch

from branches.models import Branch
from kpis import charts
from kpis.access import visible
from kpis.charts import format_number
from kpis.eras import era_label
from kpis.evaluation import MARKS, Direction, ProblemCode, relative_baseline
from kpis.models import (
    Activity,
    BranchPlan,
    FiscalYear,
    Indicator,
    Kpi,
    Mark,
    Measure,
    MonthlyBreakdown,
    MonthlyValue,
)
from kpis.notation import COMPARATOR_WORDS, Kind, as_written, parse_target, parse_value
from kpis.vocabulary import circled

BASELINE_SOURCES = {
    "written": "目標に記載",
    "previous_actual": "前年度実績",
    "stored_previous": "前年度の登録実績",
}


def percent(share: Decimal | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


def written_actual(text: str, note: str) -> tuple[str, str]:
    """An actual as written, and its as-of note (`R6.2現在`) when pages show it apart.

    `28件 (R5.6現在)` → (`28件`, `R5.6現在`); a text that does not end in its note is shown
    whole, with no separate note. The number is never rebuilt from the stored decimal.
    """
    shown = as_written(text)
    if note:
        note = as_written(note)
        body = re.sub(rf"\s*\(\s*{re.escape(note)}\s*\)$", "", shown)
        if body != shown and body:
            return body, note
    return shown, ""


class WrittenActual:
    """The `actual` and `actual_as_of` of a view of a KPI, as the branch wrote them."""

    kpi: Kpi

    @property
    def actual(self) -> str:
        return written_actual(self.kpi.actual_text, self.kpi.actual_note)[0]

    @property
    def actual_as_of(self) -> str:
        return written_actual(self.kpi.actual_text, self.kpi.actual_note)[1]


# --- counts of marks ---------------------------------------------------------------------


@dataclass(frozen=True)
class MarkCounts:
    """How many rows carry each mark (◎○△×—); a blank activity mark counts as —."""

    counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    @classmethod
    def of(cls, pairs) -> "MarkCounts":
        """From (mark, how many) pairs."""
        counts = [0] * len(MARKS)
        for mark, number in pairs:
            counts[MARKS.index(mark if mark in MARKS else Mark.NONE)] += number
        return cls(tuple(counts))

    def __add__(self, other: "MarkCounts") -> "MarkCounts":
        return MarkCounts(tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)))

    @property
    def total(self) -> int:
        return sum(self.counts)

    def cells(self) -> list[tuple[str, int]]:
        return list(zip(MARKS, self.counts, strict=True))

    excellent = property(lambda self: self.counts[0])
    as_planned = property(lambda self: self.counts[1])
    below_plan = property(lambda self: self.counts[2])
    not_done = property(lambda self: self.counts[3])
    not_evaluated = property(lambda self: self.counts[4])


@dataclass
class BranchYearSummary:
    """One row of the home page: a branch's marks and achieved KPIs in one fiscal year."""

    branch: Branch
    fiscal_year: FiscalYear
    plan: BranchPlan | None = None
    activity_marks: MarkCounts = field(default_factory=MarkCounts)
    kpi_marks: MarkCounts = field(default_factory=MarkCounts)
    kpis_achieved: int = 0
    kpis_judged: int = 0

    @property
    def marks(self) -> MarkCounts:
        return self.activity_marks + self.kpi_marks

    @property
    def achieved_share(self) -> Decimal | None:
        """Share of judged KPIs (達成 or 未達成) that were achieved; None when none judged."""
        if not self.kpis_judged:
            return None
        return Decimal(self.kpis_achieved) / Decimal(self.kpis_judged)

    @property
    def achieved_share_order(self) -> Decimal:
        # Rows without a judged KPI sort below 0 %.
        share = self.achieved_share
        return Decimal(-1) if share is None else share

    @property
    def plan_status(self) -> str:
        return self.plan.get_status_display() if self.plan else "—"


def totals(summaries: list[BranchYearSummary]) -> tuple[MarkCounts, Decimal | None]:
    """Marks over all rows, and the share of judged KPIs achieved across them."""
    marks = sum((row.marks for row in summaries), MarkCounts())
    judged = sum(row.kpis_judged for row in summaries)
    achieved = sum(row.kpis_achieved for row in summaries)
    return marks, (Decimal(achieved) / Decimal(judged) if judged else None)


def latest_visible_year(user) -> int | None:
    """The newest fiscal year in which the reader can see any measure."""
    found = visible(user, Measure.objects.all()).aggregate(year=Max("fiscal_year__start_year"))
    return found["year"]


def branch_summaries(user, fiscal_year: FiscalYear, region: str = "") -> list[BranchYearSummary]:
    """The home table: every branch with something visible in the year, in branch order."""
    kpis = visible(user, Kpi.objects.filter(fiscal_year=fiscal_year))
    activities = visible(
        user,
        Activity.objects.filter(measure__fiscal_year=fiscal_year),
        "measure__branch",
        "measure__fiscal_year",
    )
    plans = visible(user, BranchPlan.objects.filter(fiscal_year=fiscal_year))
    branches = Branch.objects.all()
    if region:
        kpis = kpis.filter(branch__region=region)
        activities = activities.filter(measure__branch__region=region)
        plans = plans.filter(branch__region=region)
        branches = branches.filter(region=region)

    kpi_rows = defaultdict(list)
    for row in kpis.values("branch_id", "mark", "achieved").annotate(n=Count("id")).order_by():
        kpi_rows[row["branch_id"]].append(row)
    activity_rows = defaultdict(list)
    for row in activities.values("measure__branch_id", "mark").annotate(n=Count("id")).order_by():
        activity_rows[row["measure__branch_id"]].append((row["mark"], row["n"]))
    plan_of = {plan.branch_id: plan for plan in plans}

    shown = set(kpi_rows) | set(activity_rows) | set(plan_of)
    summaries = []
    for branch in branches.filter(pk__in=shown):
        rows = kpi_rows[branch.pk]
        summaries.append(
            BranchYearSummary(
                branch=branch,
                fiscal_year=fiscal_year,
                plan=plan_of.get(branch.pk),
                activity_marks=MarkCounts.of(activity_rows[branch.pk]),
                kpi_marks=MarkCounts.of((row["mark"], row["n"]) for row in rows),
                kpis_achieved=sum(row["n"] for row in rows if row["achieved"] is True),
                kpis_judged=sum(row["n"] for row in rows if row["achieved"] is not None),
            )
        )
    return summaries


# --- the branch achievement page ---------------------------------------------------------


class MonthlyRow(tuple):
    """A series as the KPI block shows it: (label, month texts), with the year figure the
    branch wrote at its end (合計 / 計 / 累計 / 平均) and that column's heading, as written."""

    def __new__(cls, label: str, texts: list[str], figure: str = "", figure_label: str = ""):
        row = super().__new__(cls, (label, texts))
        row.figure, row.figure_label = figure, figure_label
        return row

    label = property(lambda self: self[0])
    texts = property(lambda self: self[1])


@dataclass
class BreakdownRow:
    """A breakdown series (内訳) under a KPI's months, as written."""

    label: str
    series: str
    texts: list[str]
    figure: str
    figure_label: str
    note: str


@dataclass
class KpiView(WrittenActual):
    """A KPI as the branch page shows it: the branch's texts beside our reading of them."""

    kpi: Kpi
    previous_actual: str
    # Whether the reader may read the previous year's KPI that a baseline may come from.
    previous_year_readable: bool = False
    trend_chart: str = ""
    monthly_charts: list["MonthlyChart"] = field(default_factory=list)
    monthly_rows: list[MonthlyRow] = field(default_factory=list)
    breakdown_rows: list[BreakdownRow] = field(default_factory=list)

    @property
    def has_year_figures(self) -> bool:
        rows = [*self.monthly_rows, *self.breakdown_rows]
        return any(row.figure for row in rows)

    @property
    def outlook(self) -> "OutlookView | None":
        return outlook_view(self.kpi)

    @property
    def is_relative(self) -> bool:
        return self.kpi.target_kind == Kind.RELATIVE

    @property
    def baseline(self) -> str:
        """What a relative target (対前年度以上) was evaluated against, or why not yet."""
        kpi = self.kpi
        if kpi.evaluation_baseline is not None:
            if kpi.baseline_source == "stored_previous" and not self.previous_year_readable:
                # The stored actual of a year the reader may not read (a draft): its value
                # stays hidden; the published 達成 and mark of this year are shown as usual.
                return "前年度の実績は未公表です"
            unit = kpi.target_unit or kpi.actual_unit or kpi.indicator.unit
            value = format_number(kpi.evaluation_baseline, unit)
            return f"{value}（{BASELINE_SOURCES.get(kpi.baseline_source, '')}）"
        if kpi.actual_value is None and not kpi.actual_text.strip():
            return self._baseline_before_actual() or "未確定（実績の登録後に決まります）"
        return "不明（前年度実績が読めないか未登録です）"

    def _baseline_before_actual(self) -> str:
        """The baseline the evaluation will use once the actual is in, where the row already
        knows it (a baseline written in the target, the row's 前年度実績, the previous year's
        readable actual): found by the evaluation's own rule, so the two never differ."""
        kpi = self.kpi
        stored = None
        if not kpi.previous_actual_text.strip() and self.previous_year_readable:
            stored = parse_value(self.previous_actual)
        found = relative_baseline(
            parse_target(kpi.target_text), parse_value(kpi.previous_actual_text), stored
        )
        if isinstance(found[0], ProblemCode):
            return ""
        value, unit, source = found
        number = format_number(value, unit or kpi.target_unit or kpi.indicator.unit)
        return f"{number}（{BASELINE_SOURCES.get(source, '')}）"


@dataclass(frozen=True)
class OutlookView:
    """A KPI's stored year-end outlook (着地見込み) as pages show it."""

    mark: str
    text: str
    basis: str

    @property
    def label(self) -> str:
        return f"見込み: {self.mark}（着地見込み {self.text}）"


def outlook_view(kpi: Kpi) -> OutlookView | None:
    """The outlook the write path stored with the KPI (kpis.writes.refresh_outlooks), for
    the branch page and the entry grid; None without one. A reader who is shown a published
    snapshot gets the snapshot's KPI, so the outlook as published."""
    if not kpi.outlook_text or not kpi.outlook_mark:
        return None
    return OutlookView(kpi.outlook_mark, as_written(kpi.outlook_text), kpi.outlook_basis)


@dataclass
class ActivityView:
    activity: Activity

    @property
    def number_label(self) -> str:
        return circled(self.activity.number)

    @property
    def text(self) -> str:
        return self.activity.text

    @property
    def mark(self) -> str:
        return self.activity.mark


@dataclass
class ReportRow:
    """One row of a measure as the report lists it: an activity, or a KPI (the activity that
    carries a target), with the number the page shows before it ("" for none)."""

    activity: ActivityView | None = None
    kpi: KpiView | None = None
    number_label: str = ""

    @property
    def subgroup(self) -> str:
        return self.activity.activity.subgroup if self.activity else self.kpi.kpi.subgroup

    @property
    def position(self) -> int | None:
        """Where the row stands among the measure's numbered activities, if anywhere."""
        return self.activity.activity.number if self.activity else self.kpi.kpi.activity_number


@dataclass
class RowGroup:
    """The rows under one sub-group heading (●被保険者 …); `subgroup` is "" for rows under none."""

    subgroup: str
    rows: list[ReportRow] = field(default_factory=list)


def report_rows(activities: list[ActivityView], kpis: list[KpiView]) -> list[RowGroup]:
    """A measure's activities and KPIs in the report's order, grouped by sub-group.

    A KPI that is the measure's activity N (Kpi.activity_number) stands at position N among
    the activities; a KPI without a number, or whose number an activity row already has,
    follows the activities of its sub-group in KPI order. Sub-groups come in the order of
    their first row. Numbers are the stored ones, except that under a sub-group heading
    they count from ① (reports number each sub-group anew) and that a measure's only
    activity is unnumbered (reports write a lone activity without ①).
    """
    taken = {view.activity.number for view in activities}
    placed = [ReportRow(activity=view) for view in activities]
    following = []
    for view in kpis:
        number = view.kpi.activity_number
        (placed if number and number not in taken else following).append(ReportRow(kpi=view))
    # Stable: at the same position an activity comes before a KPI, KPIs keep their order.
    placed.sort(key=lambda row: (row.position, row.activity is None))

    groups: list[RowGroup] = []
    for row in placed:
        if not groups or groups[-1].subgroup != row.subgroup:
            groups.append(RowGroup(row.subgroup))
        groups[-1].rows.append(row)
    for group in groups:
        for rank, row in enumerate(group.rows, start=1):
            row.number_label = circled(rank if group.subgroup else row.position)
    if len(placed) == 1 and placed[0].activity is not None:
        placed[0].number_label = ""

    for row in following:
        number = row.kpi.kpi.activity_number
        row.number_label = circled(number) if number else ""
        group = next((g for g in reversed(groups) if g.subgroup == row.subgroup), None)
        if group is None or (not row.subgroup and group is not groups[-1]):
            group = RowGroup(row.subgroup)
            groups.append(group)
        group.rows.append(row)
    return groups


@dataclass
class MeasureView:
    measure: Measure
    activities: list[ActivityView]
    kpis: list[KpiView]

    @cached_property
    def groups(self) -> list[RowGroup]:
        return report_rows(self.activities, self.kpis)


@dataclass
class PillarView:
    number: int
    name: str
    measures: list[MeasureView] = field(default_factory=list)


@dataclass
class BranchReport:
    branch: Branch
    fiscal_year: FiscalYear
    plan: BranchPlan | None
    pillars: list[PillarView]
    activity_marks: MarkCounts
    kpi_marks: MarkCounts
    previous_year: FiscalYear | None
    next_year: FiscalYear | None

    @property
    def marks(self) -> MarkCounts:
        return self.activity_marks + self.kpi_marks

    @property
    def is_empty(self) -> bool:
        return not self.pillars


def report_measures(branch: Branch, fiscal_year: FiscalYear) -> list[Measure]:
    """The working version of a branch's year: measures with their activities, KPIs,
    monthly values and breakdowns prefetched (kpis.snapshots builds the same shape)."""
    kpis = Kpi.objects.select_related("indicator").prefetch_related(
        Prefetch("monthly_values", queryset=MonthlyValue.objects.order_by("series", "month")),
        Prefetch("breakdowns", queryset=MonthlyBreakdown.objects.order_by("series", "order")),
    )
    return list(
        Measure.objects.filter(branch=branch, fiscal_year=fiscal_year)
        .select_related("pillar")
        .prefetch_related(
            Prefetch("activities", queryset=Activity.objects.order_by("number")),
            Prefetch("kpis", queryset=kpis.order_by("order", "pk")),
        )
        .order_by("pillar__number", "sort_key", "pk")
    )


def branch_report(
    user,
    branch: Branch,
    fiscal_year: FiscalYear,
    plan,
    measures: list[Measure] | None = None,
    previous_months: dict[int, "PreviousMonths"] | None = None,
) -> BranchReport:
    """Pillars → measures → activities and KPIs of one branch and year, with charts.

    `measures` is the version to show (a published snapshot's); by default the working one.
    Only `.all()` of the prefetched relations is used on them, so both shapes serve.
    `previous_months`, the year before's months as published with it; by default those the
    reader may read.
    """
    if measures is None:
        measures = report_measures(branch, fiscal_year)
    history = _branch_history(user, branch, fiscal_year)
    if previous_months is None:
        previous_months = previous_year_months(user, branch, fiscal_year)

    pillars: list[PillarView] = []
    activity_marks = MarkCounts()
    kpi_marks = MarkCounts()
    for measure in measures:
        pillar = measure.pillar
        if not pillars or pillars[-1].number != pillar.number:
            pillars.append(PillarView(pillar.number, measure.pillar_display))
        kpi_views = [
            _kpi_view(kpi, fiscal_year, history, previous_months) for kpi in measure.kpis.all()
        ]
        activities = [ActivityView(activity) for activity in measure.activities.all()]
        pillars[-1].measures.append(MeasureView(measure, activities, kpi_views))
        activity_marks += MarkCounts.of((activity.mark, 1) for activity in activities)
        kpi_marks += MarkCounts.of((view.kpi.mark, 1) for view in kpi_views)

    readable_years = list(
        FiscalYear.objects.filter(
            pk__in=visible(user, Measure.objects.filter(branch=branch)).values("fiscal_year")
        ).order_by("start_year")
    )
    earlier = [y for y in readable_years if y.start_year < fiscal_year.start_year]
    later = [y for y in readable_years if y.start_year > fiscal_year.start_year]
    return BranchReport(
        branch=branch,
        fiscal_year=fiscal_year,
        plan=plan,
        pillars=pillars,
        activity_marks=activity_marks,
        kpi_marks=kpi_marks,
        previous_year=earlier[-1] if earlier else None,
        next_year=later[0] if later else None,
    )


def _branch_history(user, branch: Branch, fiscal_year: FiscalYear):
    """{indicator id: {year: (actual value, actual text, as-of note)}} up to this year,
    visible only."""
    rows = visible(
        user,
        Kpi.objects.filter(branch=branch, fiscal_year__start_year__lte=fiscal_year.start_year),
    ).values_list(
        "indicator_id", "fiscal_year__start_year", "actual_value", "actual_text", "actual_note"
    )
    history = defaultdict(dict)
    for indicator_id, year, value, text, note in rows:
        history[indicator_id][year] = (value, text, note)
    return history


@dataclass
class PreviousMonths:
    """A KPI's monthly values in the previous fiscal year, for its charts."""

    values: dict[str, dict[int, tuple[Decimal | None, str]]] = field(default_factory=dict)
    figures: dict[str, tuple[str, str]] = field(default_factory=dict)


def previous_year_months(
    user, branch: Branch, fiscal_year: FiscalYear
) -> dict[int, PreviousMonths]:
    """{indicator id: the branch's monthly values of that indicator in the year before}, in
    one query and only from KPIs the reader may read (`user` None: all, for a publication,
    whose document shows the year before beside its own). By branch and year rather than by
    the KPIs shown, which may be a published snapshot's unsaved copies."""
    rows = MonthlyValue.objects.filter(
        kpi__branch=branch,
        kpi__fiscal_year__start_year=fiscal_year.start_year - 1,
    )
    if user is not None:
        rows = visible(user, rows, "kpi__branch", "kpi__fiscal_year")
    rows = rows.values_list(
        "kpi__indicator_id",
        "series",
        "month",
        "value",
        "text",
        "kpi__single_year_figure",
        "kpi__single_year_figure_label",
        "kpi__cumulative_year_figure",
        "kpi__cumulative_year_figure_label",
    )
    found: dict[int, PreviousMonths] = defaultdict(PreviousMonths)
    for indicator_id, series, month, value, text, *figures in rows:
        previous = found[indicator_id]
        previous.values.setdefault(series, {})[month] = (value, text)
        previous.figures[MonthlyValue.Series.SINGLE] = (figures[0], figures[1])
        previous.figures[MonthlyValue.Series.CUMULATIVE] = (figures[2], figures[3])
    return dict(found)


def _kpi_view(
    kpi: Kpi, fiscal_year: FiscalYear, history, previous_months: dict[int, PreviousMonths]
) -> KpiView:
    years = history.get(kpi.indicator_id, {})
    year = fiscal_year.start_year
    previous = previous_months.get(kpi.indicator_id, PreviousMonths())
    stored_previous = years.get(year - 1)
    previous_text = kpi.previous_actual_text or (stored_previous[1] if stored_previous else "")

    unit = kpi.actual_unit or kpi.target_unit or kpi.indicator.unit
    points = {
        y: (value, written_actual(text, note)[0])
        for y, (value, text, note) in years.items()
        if value is not None
    }
    if kpi.previous_actual_value is not None and year - 1 not in points:
        points[year - 1] = (kpi.previous_actual_value, kpi.previous_actual_text)
    trend_years = sorted(points)
    view = KpiView(
        kpi=kpi,
        previous_actual=previous_text,
        previous_year_readable=stored_previous is not None,
        trend_chart=charts.trend_chart(
            trend_years,
            [points[y][0] for y in trend_years],
            unit=unit,
            title=f"{kpi.indicator.name}の年度別実績",
            texts=[points[y][1] for y in trend_years],
        ),
        monthly_rows=_monthly_rows(kpi, fiscal_year, previous),
        breakdown_rows=[
            BreakdownRow(
                breakdown.label,
                breakdown.get_series_display(),
                [breakdown.months.get(str(month), "") for month in fiscal_year.months],
                breakdown.year_figure,
                breakdown.year_figure_label,
                breakdown.note,
            )
            for breakdown in kpi.breakdowns.all()
        ],
    )
    view.monthly_charts = _monthly_charts(view, fiscal_year, unit, previous)
    return view


def _monthly_rows(kpi: Kpi, fiscal_year: FiscalYear, previous: PreviousMonths) -> list[MonthlyRow]:
    """The monthly values as entered, one row per series, months in fiscal order, with the
    series' written year figure; a series with only a year figure has a row too. The
    previous year's series follow, named by their year (単月（令和4年度）)."""
    texts = defaultdict(dict)
    for value in kpi.monthly_values.all():
        texts[value.series][value.month] = value.text
    figures = _year_figures(kpi)
    rows = [
        MonthlyRow(label, [texts[key].get(m, "") for m in fiscal_year.months], *figures[key])
        for key, label in MonthlyValue.Series.choices
        if key in texts or figures[key][0]
    ]
    if rows:
        before = era_label(fiscal_year.start_year - 1)
        rows += [
            MonthlyRow(
                f"{label}（{before}）",
                [
                    previous.values[key][m][1] if m in previous.values[key] else ""
                    for m in fiscal_year.months
                ],
                *previous.figures.get(key, ("", "")),
            )
            for key, label in MonthlyValue.Series.choices
            if key in previous.values
        ]
    return rows


def _year_figures(kpi: Kpi) -> dict[str, tuple[str, str]]:
    """Each series' year figure as written, with its heading (合計 / 計 / 平均)."""
    return {
        MonthlyValue.Series.SINGLE: (kpi.single_year_figure, kpi.single_year_figure_label),
        MonthlyValue.Series.CUMULATIVE: (
            kpi.cumulative_year_figure,
            kpi.cumulative_year_figure_label,
        ),
    }


@dataclass
class MonthlyChart:
    """One series of a KPI (単月 or 累計) over the months: this year beside the previous
    year on one chart with its own scale, and each year's written year figure."""

    series: str
    svg: str
    # (year label, heading as written or 年度計, figure as written), this year first.
    figures: list[tuple[str, str, str]]


def _monthly_charts(
    view: KpiView, fiscal_year: FiscalYear, unit: str, previous: PreviousMonths
) -> list[MonthlyChart]:
    """単月 and 累計 each on a chart of its own (their levels differ by the year's length),
    the progress sheet's comparison: this year's line beside the previous year's."""
    kpi = view.kpi
    this_year = defaultdict(dict)
    for value in kpi.monthly_values.all():
        this_year[value.series][value.month] = (value.value, value.text)
    year_labels = (fiscal_year.era_label, era_label(fiscal_year.start_year - 1))
    # The target is read against the series the year's actual comes from: 累計 when kept.
    target_series = (
        MonthlyValue.Series.CUMULATIVE
        if MonthlyValue.Series.CUMULATIVE in this_year
        else MonthlyValue.Series.SINGLE
    )
    figures = _year_figures(kpi)
    built = []
    for key, label in MonthlyValue.Series.choices:
        years = [
            (year_label, months.get(key, {}))
            for year_label, months in zip(year_labels, (this_year, previous.values), strict=True)
        ]
        series = [
            charts.Series(
                year_label,
                [cells[m][0] if m in cells else None for m in fiscal_year.months],
                [cells[m][1] if m in cells else "" for m in fiscal_year.months],
            )
            for year_label, cells in years
            if any(value is not None for value, _ in cells.values())
        ]
        if not series:
            continue
        reference = _target_reference(view, unit) if key == target_series else None
        drawn = [value for line in series for value in line.values if value is not None]
        if reference and not _near(reference.value, drawn):
            reference = None
        written = [
            (year_label, heading or "年度計", figure)
            for year_label, (figure, heading) in zip(
                year_labels, (figures[key], previous.figures.get(key, ("", ""))), strict=True
            )
            if figure
        ]
        svg = charts.line_chart(
            [f"{month}月" for month in fiscal_year.months],
            series,
            unit=unit,
            reference=reference,
            title=f"{kpi.indicator.name}の月次実績（{label}）",
        )
        built.append(MonthlyChart(label, svg, written))
    return built


def _target_reference(view: KpiView, unit: str) -> charts.Reference | None:
    """The target as a level on the chart: an absolute target in the chart's unit, or a
    relative one (対前年度以上) at the baseline it was evaluated against, when the reader
    may see that baseline."""
    kpi = view.kpi
    if kpi.target_kind == Kind.RELATIVE:
        if kpi.evaluation_baseline is None or (
            kpi.baseline_source == "stored_previous" and not view.previous_year_readable
        ):
            return None
        target = _relative_target(kpi, unit, view.previous_actual)
        return charts.Reference(f"目標：{target}", kpi.evaluation_baseline)
    if kpi.target_value is not None and kpi.target_unit == unit:
        return charts.Reference(f"目標：{as_written(kpi.target_text)}", kpi.target_value)
    return None


def _relative_target(kpi: Kpi, unit: str, previous_text: str) -> str:
    """対前年度以上 at its evaluated baseline, as the previous year's actual was written
    when it is that actual: 前年度（0.310%）以上."""
    word = COMPARATOR_WORDS.get(kpi.target_comparator, "")
    shown = format_number(kpi.evaluation_baseline, unit)
    previous = parse_value(previous_text)
    if (
        kpi.baseline_source in ("previous_actual", "stored_previous")
        and previous.is_number
        and previous.value == kpi.evaluation_baseline
        and not previous.note
    ):
        shown = as_written(previous_text)
    return f"前年度（{shown}）{word}"


def _near(level: Decimal, values: list[Decimal]) -> bool:
    """Whether a level drawn with the values leaves them room: no further from them than
    their own spread (or a quarter of their size). A yearly target far above monthly
    counts would press the line flat."""
    if not values:
        return False
    low, high = min(values), max(values)
    distance = max(low - level, level - high, Decimal(0))
    return distance <= max(high - low, max(abs(low), abs(high)) / 4)


# --- indicator comparison ----------------------------------------------------------------


@dataclass
class RankedKpi(WrittenActual):
    kpi: Kpi
    rank: int | None


def ranked_kpis(user, indicator: Indicator, fiscal_year: FiscalYear) -> list[RankedKpi]:
    """All visible branches' KPIs for one indicator and year, best actual first.

    Ties share a rank; KPIs without a numeric actual come last, unranked. A qualitative
    indicator is listed in branch order without ranks.
    """
    kpis = list(
        visible(user, Kpi.objects.filter(indicator=indicator, fiscal_year=fiscal_year))
        .select_related("branch", "measure")
        .order_by("branch__order", "branch__code")
    )
    if indicator.direction == Direction.QUALITATIVE:
        return [RankedKpi(kpi, None) for kpi in kpis]
    numbers = [kpi for kpi in kpis if kpi.actual_value is not None]
    others = [kpi for kpi in kpis if kpi.actual_value is None]
    numbers.sort(key=lambda kpi: kpi.actual_value, reverse=indicator.direction == Direction.HIGHER)
    ranked = []
    for position, kpi in enumerate(numbers, start=1):
        tied = ranked and ranked[-1].kpi.actual_value == kpi.actual_value
        ranked.append(RankedKpi(kpi, ranked[-1].rank if tied else position))
    return ranked + [RankedKpi(kpi, None) for kpi in others]


ORDER_NOTES = {
    Direction.HIGHER: "高いほど良い指標のため、実績の高い順に並べています。",
    Direction.LOWER: "低いほど良い指標のため、実績の低い順に並べています。",
    Direction.QUALITATIVE: "定性的な指標のため順位はつけず、支部の順に並べています。",
}


def comparison_chart(indicator: Indicator, ranked: list[RankedKpi]) -> str:
    unit = indicator.unit or next((item.kpi.actual_unit for item in ranked), "")
    bars = [item for item in ranked if item.rank]
    targets = [_comparison_target(item.kpi, unit) for item in bars]
    rows = [
        (item.kpi.branch.short_name, item.kpi.actual_value, target[0] if target else None)
        for item, target in zip(bars, targets, strict=True)
    ]
    averages = {
        item.kpi.national_average_value: item.kpi.national_average_text
        for item in ranked
        if item.kpi.national_average_value is not None
    }
    reference = None
    if len(averages) == 1:
        value, text = averages.popitem()
        reference = charts.Reference(f"全国平均 {charts.value_label(value, unit, text)}", value)
    return charts.bar_chart(
        rows,
        unit=unit,
        reference=reference,
        title=f"{indicator.name}の支部別実績",
        texts=[
            (item.actual, target[1] if target else "")
            for item, target in zip(bars, targets, strict=True)
        ],
    )


def _comparison_target(kpi: Kpi, unit: str) -> tuple[Decimal, str] | None:
    """A branch's target as a mark on its bar, with its text: a relative target at the
    baseline written in its own row (a stored previous year may be unpublished)."""
    if kpi.target_kind == Kind.RELATIVE:
        if kpi.evaluation_baseline is None or kpi.baseline_source not in (
            "written",
            "previous_actual",
        ):
            return None
        return kpi.evaluation_baseline, _relative_target(kpi, unit, kpi.previous_actual_text)
    if kpi.target_value is not None and kpi.target_unit == unit:
        return kpi.target_value, as_written(kpi.target_text)
    return None


def comparison_years(user, indicator: Indicator) -> list[FiscalYear]:
    """Fiscal years in which the reader sees at least one KPI of the indicator, newest
    first (unsaved: for their labels, 令和5年度 (2023))."""
    starts = (
        visible(user, Kpi.objects.filter(indicator=indicator))
        .values_list("fiscal_year__start_year", flat=True)
        .distinct()
    )
    return [FiscalYear(start_year=year) for year in sorted(set(starts), reverse=True)]


@dataclass
class IndicatorEntry:
    indicator: Indicator
    years: list[tuple[int, int]]  # (start year, visible branches), newest first

    @property
    def year_links(self) -> list[tuple[int, str, int]]:
        """(start year, its label 令和5年度 (2023), visible branches), newest first."""
        return [(year, FiscalYear(start_year=year).label, n) for year, n in self.years]


def indicator_entries(user) -> list[IndicatorEntry]:
    """Every indicator that has a visible KPI, with the years and how many branches, in plan
    order: by pillar, then measure (then the KPI's place in it) where the first plan that has
    the indicator (earliest year, then branch order) places it."""
    counts = defaultdict(dict)
    places = {}
    rows = (
        visible(user, Kpi.objects.all())
        .values_list(
            "indicator_id",
            "fiscal_year__start_year",
            "measure__pillar__number",
            "measure__sort_key",
            "order",
        )
        .order_by(
            "fiscal_year__start_year",
            "branch__order",
            "branch__code",
            "measure__pillar__number",
            "measure__sort_key",
            "order",
        )
    )
    for indicator_id, year, *place in rows:
        counts[indicator_id][year] = counts[indicator_id].get(year, 0) + 1
        places.setdefault(indicator_id, tuple(place))
    return [
        IndicatorEntry(indicator, sorted(counts[indicator.pk].items(), reverse=True))
        for indicator in sorted(
            Indicator.objects.filter(pk__in=places), key=lambda i: (places[i.pk], i.name)
        )
    ]
