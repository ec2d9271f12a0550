"""The branch page's KPI block shows the year figure a branch wrote at the end of a series
(合計 / 計 / 累計 / 平均) beside the months, as written, and the breakdown series (内訳)."""

import pytest

from kpis.models import MonthlyBreakdown, MonthlyValue
from tests import factories
from tests.factories_pages import BranchPlanFactory, indicator

pytestmark = pytest.mark.django_db


@pytest.fixture
def kpi():
    BranchPlanFactory(fiscal_year=factories.FiscalYearFactory(start_year=2023))
    return factories.KpiFactory(
        measure__fiscal_year__start_year=2023, indicator=indicator(60, unit="件")
    )


def block(client, admin) -> str:
    client.force_login(admin)
    response = client.get("/branches/11/2023/")
    assert response.status_code == 200
    text = response.content.decode()
    return text[text.index('class="monthly-values"') :].split("</table>")[0]


def test_written_year_figures_beside_the_months(client, admin, kpi):
    factories.MonthlyValueFactory(kpi=kpi, month=4, text="2,974件")
    factories.MonthlyValueFactory(kpi=kpi, month=4, series="cumulative", text="2,974件")
    kpi.single_year_figure, kpi.single_year_figure_label = "４１，８７３", "計"
    kpi.cumulative_year_figure, kpi.cumulative_year_figure_label = "41,873件", "累計"
    kpi.save()

    table = block(client, admin)

    assert "年度計" in table
    assert "41,873<span" in table and "（計）" in table  # as written, half-width
    assert "41,873件" in table and "（累計）" in table


def test_a_year_figure_without_months_is_shown(client, admin, kpi):
    kpi.single_year_figure, kpi.single_year_figure_label = "4", "合計"
    kpi.save()

    table = block(client, admin)

    assert "単月" in table and "（合計）" in table


def test_breakdowns_under_the_months(client, admin, kpi):
    factories.MonthlyValueFactory(kpi=kpi, month=4, text="100%")
    MonthlyBreakdown.objects.create(
        kpi=kpi,
        label="傷病手当金",
        series=MonthlyValue.Series.SINGLE,
        months={"4": "2,657", "3": "4,002"},
        year_figure="37,478",
        year_figure_label="計",
        note="支給件数",
    )

    table = block(client, admin)

    assert "内訳" in table
    assert "傷病手当金" in table and "支給件数" in table
    assert "2,657" in table and "4,002" in table and "37,478" in table


def test_texts_of_the_table_are_shown_as_text_not_markup(client, admin, kpi):
    MonthlyBreakdown.objects.create(
        kpi=kpi,
        label="<b>内訳</b>",
        series=MonthlyValue.Series.SINGLE,
        months={"4": "<i>3</i>"},
        year_figure="<u>3</u>",
        note="<script>x</script>",
    )

    table = block(client, admin)

    assert "&lt;b&gt;内訳&lt;/b&gt;" in table and "&lt;script&gt;" in table
    assert "&lt;i&gt;3&lt;/i&gt;" in table and "&lt;u&gt;3&lt;/u&gt;" in table
    assert "<b>" not in table and "<script>" not in table
