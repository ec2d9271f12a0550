"""The plan (事業計画) as its page shows it: pillars → measures with their activities and
KPIs, and the KPI list's figures of the two years before beside this year's target
(令和4年度実績 / 令和5年度目標 / 令和6年度目標), as seed 002's KPI table has them."""

from dataclasses import dataclass, field

from kpis import eras
from kpis.models import FiscalYear, Kpi, Measure
from kpis.summary import ActivityView


@dataclass
class PlanKpi:
    """A KPI in the plan's KPI list: this year's target beside the two years before."""

    kpi: Kpi
    earlier: list[str]  # one text per column of PlanPillar.columns
    tags: list[str]


@dataclass
class PlanMeasure:
    measure: Measure
    activities: list[ActivityView]
    kpis: list[PlanKpi]


@dataclass
class PlanPillar:
    number: int
    name: str
    measures: list[PlanMeasure] = field(default_factory=list)


# The earlier columns of the KPI list: (years back, what), shown when any row has a figure.
EARLIER_COLUMNS = [(2, "目標"), (2, "実績"), (1, "目標"), (1, "実績")]


def _earlier_text(kpi: Kpi, start_year: int, earlier: dict, back: int, what: str) -> str:
    """A figure of the same indicator `back` years before, as written: the year's own row,
    else what the following year's row gives as its 前年度実績."""
    years = earlier.get(kpi.indicator_id, {})
    year = start_year - back
    row = years.get(year, {})
    if what == "目標":
        return row.get("target_text", "")
    if back == 1:
        fallback = kpi.previous_actual_text
    else:
        fallback = years.get(year + 1, {}).get("previous_actual_text", "")
    return row.get("actual_text", "") or fallback


def plan_document(measures, earlier: dict, fiscal_year: FiscalYear):
    """Pillars → measures with activities and KPIs, and the KPI list's earlier columns
    that have any figure ((heading, years back, what) each)."""
    pillars: list[PlanPillar] = []
    for measure in measures:
        if not pillars or pillars[-1].number != measure.pillar.number:
            pillars.append(PlanPillar(measure.pillar.number, measure.pillar_display))
        kpis = []
        for kpi in measure.kpis.all():
            texts = [
                _earlier_text(kpi, fiscal_year.start_year, earlier, back, what)
                for back, what in EARLIER_COLUMNS
            ]
            rows = earlier.get(kpi.indicator_id, {}).values()
            tags = [kpi.tags, *(row.get("tags", "") for row in rows)]
            kpis.append(PlanKpi(kpi, texts, list(dict.fromkeys(t for t in tags if t))))
        activities = [ActivityView(activity) for activity in measure.activities.all()]
        pillars[-1].measures.append(PlanMeasure(measure, activities, kpis))
    every = [kpi for pillar in pillars for item in pillar.measures for kpi in item.kpis]
    shown = [i for i in range(len(EARLIER_COLUMNS)) if any(k.earlier[i] for k in every)]
    for kpi in every:
        kpi.earlier = [kpi.earlier[i] for i in shown]
    columns = []
    for i in shown:
        back, what = EARLIER_COLUMNS[i]
        columns.append(f"{eras.era_label(fiscal_year.start_year - back)}{what}")
    return pillars, columns
