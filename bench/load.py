"""Loading the background years of the data set straight into the models, fast.

Only the year under measurement goes through the product's import; the other nine years
are background, so they are written with bulk_create — after the same derivations the
models' save() would run (`Kpi.evaluate_texts`, `MonthlyValue.read_text`). KPIs get their
history rows as an import leaves them; the 300,000 background monthly values do not (no
page reads them, and writing them would double the loading time).
"""

from django.db import transaction
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from bench.dataset import NationalDataSet
from branches.models import Branch
from kpis.eras import FISCAL_MONTHS
from kpis.models import BranchPlan, FiscalYear, Indicator, Kpi, Measure, MonthlyValue, Pillar
from kpis.numbering import measure_sort_key

BATCH = 2000


def ensure_indicators(data: NationalDataSet) -> dict[str, Indicator]:
    existing = {i.name: i for i in Indicator.objects.all()}
    missing = [
        Indicator(
            name=spec.name,
            slug=slugify(spec.name, allow_unicode=True),
            unit=spec.unit,
            direction=spec.direction,
            aggregation=spec.aggregation,
            definition=spec.definition,
        )
        for spec in data.indicators
        if spec.name not in existing
    ]
    Indicator.objects.bulk_create(missing)
    return {i.name: i for i in Indicator.objects.all()}


def open_year(year: int, status=FiscalYear.Status.OPEN) -> FiscalYear:
    """The fiscal year and a plan per branch, as head office sets them up before imports."""
    fiscal_year, _ = FiscalYear.objects.get_or_create(start_year=year, defaults={"status": status})
    plan_status = (
        BranchPlan.Status.PUBLISHED
        if status == FiscalYear.Status.CLOSED
        else BranchPlan.Status.DRAFT
    )
    BranchPlan.objects.bulk_create(
        [
            BranchPlan(branch=branch, fiscal_year=fiscal_year, status=plan_status)
            for branch in Branch.objects.all()
        ],
        ignore_conflicts=True,
    )
    return fiscal_year


def load_year(data: NationalDataSet, year: int) -> None:
    """Measures, KPIs (evaluated, with history) and monthly values of one fiscal year."""
    rows = data.rows(year)
    indicators = ensure_indicators(data)
    branches = {b.code: b for b in Branch.objects.all()}
    with transaction.atomic():
        fiscal_year = open_year(year, FiscalYear.Status.CLOSED)
        pillars = Pillar.national()

        measures = {}
        for row in rows:
            key = (row.branch_code, row.pillar_number, row.measure_number)
            if key not in measures:
                measures[key] = Measure(
                    branch=branches[row.branch_code],
                    fiscal_year=fiscal_year,
                    pillar=pillars[row.pillar_number],
                    pillar_label=row.pillar_name,
                    number_label=f"({row.measure_number})",
                    sort_key=measure_sort_key(f"({row.measure_number})"),
                    title=row.measure_title,
                    group=row.group,
                    is_important=row.is_important,
                    is_difficult=row.is_difficult,
                )
        Measure.objects.bulk_create(measures.values(), batch_size=BATCH)

        previous_actuals = {
            (branch_id, indicator_id): text
            for branch_id, indicator_id, text in Kpi.objects.filter(
                fiscal_year__start_year=year - 1
            ).values_list("branch_id", "indicator_id", "actual_text")
        }
        kpis = []
        for order, row in enumerate(rows):
            branch = branches[row.branch_code]
            indicator = indicators[row.indicator.name]
            kpi = Kpi(
                branch=branch,
                fiscal_year=fiscal_year,
                indicator=indicator,
                measure=measures[(row.branch_code, row.pillar_number, row.measure_number)],
                order=order % len(data.indicators),
                description=row.description,
                target_text=row.target_text,
                actual_text=row.actual_text,
                previous_actual_text=row.previous_actual_text,
                national_average_text=row.national_average_text,
                national_rank=row.national_rank,
            )
            kpi.evaluate_texts(previous_actuals.get((branch.pk, indicator.pk)))
            kpis.append(kpi)
        bulk_create_with_history(kpis, Kpi, batch_size=BATCH)
        _load_monthly_values(data, year, kpis)


def _load_monthly_values(data: NationalDataSet, year: int, kpis: list[Kpi]) -> None:
    values = []
    for row, kpi in zip(data.rows(year), kpis, strict=True):
        series = (
            MonthlyValue.Series.CUMULATIVE if row.series == "累計" else MonthlyValue.Series.SINGLE
        )
        for month, cell in zip(FISCAL_MONTHS, row.months, strict=True):
            if cell is None:
                continue
            value = MonthlyValue(kpi=kpi, month=month, series=series, text=str(cell))
            value.read_text()
            values.append(value)
    MonthlyValue.objects.bulk_create(values, batch_size=BATCH)
