"""A published year's progress sheet shows the year before beside it, month by month: the
council reads those months as they were published with the year (Gunma's 令和4年度 series
sit in a year whose own results are not published), and a later change to them waits for
the next publication."""

import re

import pytest

from kpis import snapshots
from kpis.models import BranchPlan, MonthlyValue, PublishedSnapshot
from tests import factories
from tests.factories_pages import BranchPlanFactory
from tests.test_page_monthly_charts import SINGLE_2022, SINGLE_2023, kpi_with_months, monthly_charts

pytestmark = pytest.mark.django_db


@pytest.fixture
def published_2023(admin):
    """令和5年度 published with a snapshot; 令和4年度 a draft that holds the earlier series."""
    BranchPlanFactory(
        fiscal_year=factories.FiscalYearFactory(start_year=2022), status=BranchPlan.Status.DRAFT
    )
    plan = BranchPlanFactory(fiscal_year=factories.FiscalYearFactory(start_year=2023))
    kpi_with_months(2022, SINGLE_2022, 1_180)
    kpi_with_months(2023, SINGLE_2023, 1_313)
    snapshots.capture(plan, PublishedSnapshot.Document.RESULTS, admin)
    return plan


def march_2022_tooltips(client, user) -> list[str]:
    chart = monthly_charts(client, user)["単月"]
    return [node.text for node in chart.iter("title") if re.match(r"3月 令和4年度", node.text)]


def test_council_reads_the_year_before_as_published_with_the_year(client, council, published_2023):
    assert march_2022_tooltips(client, council) == ["3月 令和4年度 2事業所"]


def test_a_later_change_to_the_year_before_waits_for_the_next_publication(
    client, council, staff_11, published_2023
):
    corrected = MonthlyValue.objects.get(
        kpi__fiscal_year__start_year=2022, month=3, series=MonthlyValue.Series.SINGLE
    )
    corrected.text = "9事業所"
    corrected.save()

    assert march_2022_tooltips(client, council) == ["3月 令和4年度 2事業所"]
    assert march_2022_tooltips(client, staff_11) == ["3月 令和4年度 9事業所"]
