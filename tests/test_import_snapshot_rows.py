"""The undo images a batch keeps of the rows it wrote (imports.plan.snapshot_rows) hold
what `snapshot` holds of each row: decimals at their stored precision, dates as text, JSON
as it is, whatever mix of values the rows have."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from imports.plan import before_images, snapshot, snapshot_names, snapshot_rows
from kpis.models import BranchPlan, MonthlyBreakdown, MonthlyValue
from tests.factories import KpiFactory, MonthlyValueFactory

pytestmark = pytest.mark.django_db


def _as_snapshot(objects):
    return [tuple(snapshot(obj)[name] for name in snapshot_names(type(obj))) for obj in objects]


def test_monthly_values_decimals_at_their_precision():
    kpi = KpiFactory()
    values = [
        MonthlyValueFactory.build(kpi=kpi, month=4, text="95.30%", value=Decimal("95.30")),
        MonthlyValueFactory.build(kpi=kpi, month=5, text="1,200件", value=Decimal("1200")),
        MonthlyValueFactory.build(kpi=kpi, month=6, text="実施", value=None),
    ]

    rows = snapshot_rows(values)

    assert rows == _as_snapshot(values)
    value = snapshot_names(MonthlyValue).index("value")
    assert [row[value] for row in rows] == ["95.300000", "1200.000000", None]


def test_kpis_with_dates_texts_and_none():
    kpis = KpiFactory.create_batch(2)
    kpis[0].target_value, kpis[1].target_value = Decimal("96.5"), None
    assert snapshot_rows(kpis) == _as_snapshot(kpis)
    assert all(
        isinstance(v, str | int | float | bool | type(None)) for r in snapshot_rows(kpis) for v in r
    )


def test_json_and_datetime_columns():
    kpi = KpiFactory()
    breakdowns = [
        MonthlyBreakdown(kpi=kpi, series="single", label="被保険者", order=1, months={"4": "3件"}),
        MonthlyBreakdown(kpi=kpi, series="single", label="被扶養者", order=2, months={}),
    ]
    plans = [
        BranchPlan(
            branch=kpi.branch,
            fiscal_year=kpi.fiscal_year,
            submitted_at=timezone.make_aware(datetime(2024, 5, 1, 9)),
        ),
        BranchPlan(branch=kpi.branch, fiscal_year=kpi.fiscal_year),
    ]
    assert snapshot_rows(breakdowns) == _as_snapshot(breakdowns)
    assert snapshot_rows(plans) == _as_snapshot(plans)


def test_before_images_hold_the_old_texts_and_the_rest_as_stored():
    kpi = KpiFactory()
    value = MonthlyValueFactory(kpi=kpi, month=4, text="95.3%", value=Decimal("95.3"), unit="%")
    value.text, value.value, value.unit = "96%", Decimal("96"), "%"

    (image,) = before_images([value], {"text": ["95.3%"], "value": [Decimal("95.3")]}).items()

    expected = snapshot(value) | {"text": "95.3%", "value": "95.300000"}
    assert image == (value.pk, expected)
