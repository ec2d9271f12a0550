"""Charts draw values that a float cannot tell apart (7999999999.999999円 and 8000000000円,
as PostgreSQL returns them) as one level instead of dividing by a zero-length axis."""

from decimal import Decimal as D

import pytest

from kpis import charts
from tests import factories
from tests.factories_pages import BranchPlanFactory

CLOSE = [D("7999999999.999999"), D("8000000000")]


def test_scale_of_close_large_values_has_length():
    scale = charts.Scale.around(CLOSE, from_zero=False)
    assert scale.high > scale.low
    assert 2 <= len(scale.ticks()) <= 7
    assert scale.low <= float(CLOSE[0]) <= float(CLOSE[1]) <= scale.high


def test_charts_of_close_large_values_draw_both_values():
    trend = charts.trend_chart([2022, 2023], CLOSE, unit="円", title="t")
    assert "<svg" in trend and "7,999,999,999.999999円" in trend
    line = charts.line_chart(["4月", "5月"], [charts.Series("単月", CLOSE)], unit="円", title="t")
    assert line.count("<circle") == 2
    rows = [("埼玉", CLOSE[0], None), ("千葉", CLOSE[1], None)]
    bars = charts.bar_chart(rows, unit="円", title="t")
    assert bars.count('class="chart-bar"') == 2


@pytest.mark.django_db
def test_branch_page_with_close_large_values(client, admin):
    """On PostgreSQL the page failed with 500; SQLite rounds both to 15 digits."""
    BranchPlanFactory(branch=factories.branch("11"))
    indicator = factories.IndicatorFactory(name="医療費総額", slug="iryouhi-sougaku", unit="円")
    kpi = factories.KpiFactory(
        indicator=indicator, target_text="8,000,000,000円以下", actual_text="8000000000円"
    )
    factories.MonthlyValueFactory(kpi=kpi, month=4, text="7999999999.999999円")
    factories.MonthlyValueFactory(kpi=kpi, month=5, text="8000000000円")
    client.force_login(admin)
    response = client.get("/branches/11/2023/")
    assert response.status_code == 200
    assert "7999999999.999999円" in response.content.decode()
