"""The national achievement map (全国の達成状況): branches × indicators of one fiscal year.

Each cell is a branch's KPI of an indicator: its mark (◎○△×—), its actual as written and its
year-end outlook (見込み, stored with the KPI). Cells come from the KPIs the reader may read
(`kpis.access.visible`, as on the KPI table): a branch whose year the reader may not read
is a row marked 未公表 without figures. Columns are grouped by national pillar. Four
queries whatever the number of branches, indicators and years.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, lru_cache

from branches.models import Branch
from branches.roles import is_admin
from kpis import vocabulary
from kpis.access import visible
from kpis.models import BranchPlan, FiscalYear, Kpi, Pillar
from kpis.summary import percent, written_actual

# The CSS name of each mark (static/css/map.css colours the cells by it).
MARK_STYLES = {
    vocabulary.EXCELLENT: "excellent",
    vocabulary.AS_PLANNED: "achieved",
    vocabulary.BELOW_PLAN: "below",
    vocabulary.NOT_DONE: "notdone",
}
UNPUBLISHED = "未公表"
_written_actual = lru_cache(maxsize=8192)(written_actual)
NO_KPIS = "KPIの登録なし"

# ?sort=…: the row orders the page offers (the default: branch order).
SORTS = {
    "": "支部順",
    "rate": "KPI達成率の高い順",
    "rate_asc": "KPI達成率の低い順",
}


@dataclass(frozen=True)
class MapColumn:
    indicator_id: int
    name: str
    slug: str
    pillar_number: int


@dataclass
class PillarGroup:
    number: int
    name: str
    columns: list[MapColumn] = field(default_factory=list)


@dataclass(frozen=True)
class MapCell:
    mark: str
    actual: str
    outlook_mark: str
    outlook_text: str

    @property
    def style(self) -> str:
        return MARK_STYLES.get(self.mark, "none")


@dataclass
class MapRow:
    branch: Branch
    readable: bool
    cells: list[MapCell | None] = field(default_factory=list)
    achieved: int = 0
    judged: int = 0

    @property
    def share(self) -> Decimal | None:
        """KPI達成率: achieved among the KPIs judged 達成 or 未達成, as on the home page."""
        return Decimal(self.achieved) / Decimal(self.judged) if self.judged else None

    @property
    def share_text(self) -> str:
        return percent(self.share) if self.readable else ""

    @property
    def label(self) -> str:
        """Why the row shows no figures ("" when it shows them)."""
        if not self.readable:
            return UNPUBLISHED
        return "" if any(self.cells) else NO_KPIS


@dataclass
class NationalMap:
    fiscal_year: FiscalYear
    pillars: list[PillarGroup]
    rows: list[MapRow]

    @cached_property
    def columns(self) -> list[MapColumn]:
        return [column for pillar in self.pillars for column in pillar.columns]


def national_map(user, fiscal_year: FiscalYear, sort: str = "") -> NationalMap:
    cells = (
        visible(user, Kpi.objects.filter(fiscal_year=fiscal_year))
        .values_list(
            "branch_id",
            "indicator_id",
            "indicator__name",
            "indicator__slug",
            "measure__pillar_id",
            "measure__sort_key",
            "order",
            "mark",
            "achieved",
            "actual_text",
            "actual_note",
            "outlook_mark",
            "outlook_text",
        )
        .order_by("branch__order", "branch__code", "measure__pillar_id", "measure__sort_key")
    )
    places, by_branch = {}, defaultdict(dict)
    for branch_id, indicator_id, name, slug, pillar_id, sort_key, order, *kpi in cells:
        places.setdefault(indicator_id, (pillar_id, sort_key, order, name, slug))
        by_branch[branch_id][indicator_id] = kpi

    pillar_of = {pillar.pk: pillar for pillar in Pillar.objects.all()}
    ordered = sorted(
        places.items(),
        key=lambda item: (pillar_of[item[1][0]].number, *item[1][1:4]),
    )
    pillars: list[PillarGroup] = []
    for indicator_id, (pillar_id, _key, _order, name, slug) in ordered:
        pillar = pillar_of[pillar_id]
        if not pillars or pillars[-1].number != pillar.number:
            pillars.append(PillarGroup(pillar.number, pillar.name))
        pillars[-1].columns.append(MapColumn(indicator_id, name, slug, pillar.number))

    readable = _readable_branches(user, fiscal_year, by_branch)
    rows = []
    for branch in Branch.objects.all():
        row = MapRow(branch, readable is None or branch.pk in readable)
        kpis = by_branch.get(branch.pk, {}) if row.readable else {}
        for pillar in pillars:
            for column in pillar.columns:
                row.cells.append(_cell(kpis.get(column.indicator_id)))
        for _mark, achieved, *_rest in kpis.values():
            row.judged += achieved is not None
            row.achieved += achieved is True
        rows.append(row)
    return NationalMap(fiscal_year, pillars, _sorted(rows, sort))


def _readable_branches(user, fiscal_year: FiscalYear, shown) -> set[int] | None:
    """The branches whose year the reader reads (None: all): those with a KPI or a plan the
    reader may read (`visible`), so a draft is 未公表 and a published plan without KPIs
    says so."""
    if is_admin(user):
        return None
    plans = visible(user, BranchPlan.objects.filter(fiscal_year=fiscal_year))
    return set(plans.values_list("branch_id", flat=True)) | set(shown)


def _cell(kpi) -> MapCell | None:
    if kpi is None:
        return None
    mark, _achieved, actual_text, actual_note, outlook_mark, outlook_text = kpi
    return MapCell(
        mark or vocabulary.NOT_EVALUATED,
        _written_actual(actual_text, actual_note)[0],
        outlook_mark,
        outlook_text,
    )


def _sorted(rows: list[MapRow], sort: str) -> list[MapRow]:
    """Rows by KPI達成率 (high or low first); rows without one last, in branch order."""
    if sort not in ("rate", "rate_asc"):
        return rows
    rated = [row for row in rows if row.readable and row.share is not None]
    others = [row for row in rows if not row.readable or row.share is None]
    rated.sort(key=lambda row: row.share, reverse=sort == "rate")
    return rated + others
