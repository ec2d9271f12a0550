"""Builders for the monthly entry tests: an open fiscal year, KPIs with indicators of a
given unit and aggregation, and the POST data of the entry grid as a browser sends it."""

from kpis.entry import services
from kpis.entry.forms import cell_field, versions_field
from kpis.eras import FISCAL_MONTHS
from kpis.models import FiscalYear, Kpi, MonthlyValue
from tests import factories


def fiscal_year(start_year=2023, **fields) -> FiscalYear:
    year = factories.FiscalYearFactory(start_year=start_year)
    for name, value in fields.items():
        setattr(year, name, value)
    year.save()
    return year


def kpi(
    code="11",
    year=2023,
    name="特定健診実施率",
    unit="%",
    aggregation="point",
    direction="higher",
    **fields,
) -> Kpi:
    indicator = factories.IndicatorFactory(
        name=name, unit=unit, aggregation=aggregation, direction=direction
    )
    measure = factories.MeasureFactory(branch=factories.branch(code), fiscal_year=fiscal_year(year))
    return factories.KpiFactory(measure=measure, indicator=indicator, **fields)


def next_year(kpi: Kpi, **fields) -> Kpi:
    """The same branch's KPI of the same indicator a year later, in a measure of the same
    number (a relative target is evaluated against `kpi`'s actual)."""
    measure = factories.MeasureFactory(
        branch=kpi.branch,
        fiscal_year=fiscal_year(kpi.fiscal_year.start_year + 1),
        number_label=kpi.measure.number_label,
    )
    return factories.KpiFactory(measure=measure, indicator=kpi.indicator, **fields)


def value(kpi: Kpi, month: int, text: str) -> MonthlyValue:
    return MonthlyValue.objects.create(
        kpi=kpi, month=month, series=services.series_for(kpi.indicator), text=text
    )


def grid_data(kpis, typed=None, reason="") -> dict:
    """The grid form as rendered now, with `typed` {(kpi, month): text} typed over it."""
    typed = {(k.pk, month): text for (k, month), text in (typed or {}).items()}
    data = {"reason": reason}
    for k in kpis:
        stored = {
            v.month: v
            for v in MonthlyValue.objects.filter(kpi=k, series=services.series_for(k.indicator))
        }
        versions = []
        for month in FISCAL_MONTHS:
            current = stored.get(month)
            versions.append(str(current.version if current else 0))
            text = typed.get((k.pk, month), current.text if current else "")
            data[cell_field(k.pk, month)] = text
        data[versions_field(k.pk)] = ",".join(versions)
    return data


def grid_url(code="11", year=2023) -> str:
    return f"/entry/{code}/{year}/"
