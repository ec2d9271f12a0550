"""A monthly import is prepared before its write transaction and written only if what it
read is still so (imports.pipeline.still_current): a value a person entered meanwhile in a
cell the file fills makes it prepare again under the lock, instead of a clash or an
overwrite; a value entered in another cell does not."""

import pytest

from imports import pipeline
from kpis.models import Kpi, MonthlyValue
from tests.factories_imports import MONTHLY_HEADER, kpi_row, load, monthly_row, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def prepared(admin):
    load(xlsx([kpi_row(**{"KPI指標": "指標1", "単位": "%"})]))
    content = xlsx([monthly_row(indicator="指標1", months=["10%"])], MONTHLY_HEADER, "月次")
    plan = pipeline.prepare(pipeline.read_and_validate(content, "monthly.xlsx"), admin)
    assert len(plan[MonthlyValue].create) == 1
    return plan


def entered(month: int) -> None:
    MonthlyValue.objects.create(kpi=Kpi.objects.get(), month=month, series="single", text="9%")


def test_a_plan_is_current_while_nothing_changed(prepared):
    assert pipeline.still_current(prepared)


def test_a_value_entered_meanwhile_in_a_cell_the_file_fills_makes_it_stale(prepared):
    entered(4)

    assert not pipeline.still_current(prepared)


def test_a_value_entered_meanwhile_in_another_cell_leaves_it_current(prepared):
    entered(5)

    assert pipeline.still_current(prepared)
