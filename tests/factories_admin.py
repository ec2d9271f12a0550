"""POST data of the Django admin's change forms for KPI data, as a browser sends them:
the stored values with some changed, and the version the page was opened with."""

from kpis.models import Kpi, MonthlyValue

KPI_FIELDS = (
    "order",
    "description",
    "target_text",
    "actual_text",
    "previous_actual_text",
    "national_average_text",
    "national_rank",
    "mark",
    "mark_source",
    "mark_reason",
    "note",
)


def kpi_change(kpi: Kpi, **changes) -> dict:
    data = {name: getattr(kpi, name) for name in KPI_FIELDS}
    data |= {
        "branch": kpi.branch_id,
        "fiscal_year": kpi.fiscal_year_id,
        "indicator": kpi.indicator_id,
        "measure": kpi.measure_id,
        "seen_version": kpi.version,
    }
    data |= changes
    return {name: "" if value is None else value for name, value in data.items()}


def kpi_url(kpi: Kpi) -> str:
    return f"/admin/kpis/kpi/{kpi.pk}/change/"


def value_change(value: MonthlyValue, **changes) -> dict:
    return {"text": value.text, "seen_version": value.version} | changes


def value_url(value: MonthlyValue) -> str:
    return f"/admin/kpis/monthlyvalue/{value.pk}/change/"
