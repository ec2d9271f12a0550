"""A KPI's months as the progress sheet compares them: this year beside the previous year,
単月 and 累計 on charts of their own (a count of 0–38 a month is not drawn flat against a
running total of 1,341–1,470), each year's written figure beside them and the breakdowns
(内訳) in the table below."""

import re
import xml.etree.ElementTree as ET

import pytest

from kpis.models import BranchPlan, MonthlyBreakdown, MonthlyValue
from tests import factories
from tests.factories_pages import BranchPlanFactory

pytestmark = pytest.mark.django_db

MONTHS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)
SINGLE_2023 = [28, 15, 11, 10, 5, 16, 0, 14, 4, 17, 6, 38]
SINGLE_2022 = [7, 11, 24, 7, 4, 3, 43, 7, 1, 21, 17, 2]


def running(start: int, months: list[int]) -> list[int]:
    totals, total = [], start
    for number in months:
        total += number
        totals.append(total)
    return totals


def kpi_with_months(year: int, single: list[int], start: int, **fields):
    fiscal_year = factories.FiscalYearFactory(start_year=year)
    kpi = factories.KpiFactory(
        measure=factories.MeasureFactory(fiscal_year=fiscal_year),
        indicator=factories.IndicatorFactory(
            name="健康宣言事業所数", slug="kenko-sengen", unit="事業所"
        ),
        target_text="1,200事業所以上",
        **fields,
    )
    for month, count, total in zip(MONTHS, single, running(start, single), strict=True):
        factories.MonthlyValueFactory(kpi=kpi, month=month, text=f"{count}事業所")
        factories.MonthlyValueFactory(
            kpi=kpi, month=month, series=MonthlyValue.Series.CUMULATIVE, text=f"{total:,}事業所"
        )
    return kpi


@pytest.fixture
def two_years():
    for year in (2022, 2023):
        BranchPlanFactory(fiscal_year=factories.FiscalYearFactory(start_year=year))
    kpi_with_months(
        2022, SINGLE_2022, 1_180, single_year_figure="147事業所", single_year_figure_label="合計"
    )
    kpi = kpi_with_months(
        2023, SINGLE_2023, 1_313, single_year_figure="164事業所", single_year_figure_label="合計"
    )
    MonthlyBreakdown.objects.create(
        kpi=kpi,
        label="標準化",
        series=MonthlyValue.Series.CUMULATIVE,
        months={"4": "166", "5": "171", "6": "521"},
    )


def monthly_charts(client, user) -> dict[str, ET.Element]:
    client.force_login(user)
    html = client.get("/branches/11/2023/").content.decode()
    charts = {}
    for svg in re.findall(r"<svg .*?</svg>", html, re.S):
        root = ET.fromstring(svg)
        title = root.find("title").text
        if "月次実績" in title:
            charts[re.search(r"（(.+)）", title).group(1)] = root
    return charts


def texts(chart: ET.Element, css: str) -> list[str]:
    return [node.text for node in chart.iter("text") if css in node.get("class").split()]


def axis(chart: ET.Element) -> tuple[float, float]:
    """The lowest and highest value the value axis shows."""
    ticks = [
        node
        for node in chart.iter("text")
        if node.get("class") == "chart-tick" and node.get("text-anchor") == "end"
    ]
    numbers = [float(re.sub(r"[^\d.]", "", node.text)) for node in ticks]
    return min(numbers), max(numbers)


def page_text(client) -> str:
    return re.sub(r"\s+", " ", client.get("/branches/11/2023/").content.decode())


def test_single_month_and_running_total_have_charts_of_their_own(client, council, two_years):
    charts = monthly_charts(client, council)
    assert list(charts) == ["単月", "累計"]
    # Each axis spans its own series (both years): 0–43 a month, 1,187–1,477 running.
    assert axis(charts["単月"]) == (0, 50)
    low, high = axis(charts["累計"])
    assert 1_100 <= low <= 1_187 and 1_477 <= high <= 1_600


def test_single_month_line_is_not_flat(client, council, two_years):
    chart = monthly_charts(client, council)["単月"]
    grid = [
        float(line.get("y1")) for line in chart.iter("line") if line.get("class") == "chart-grid"
    ]
    points = [
        float(circle.get("cy"))
        for circle in chart.iter("circle")
        if "chart-series-0" in circle.get("class")
    ]
    assert len(points) == 12
    # 0 and 38 lie most of the plot's height apart (of 0–50).
    assert max(points) - min(points) > 0.7 * (max(grid) - min(grid))


def test_this_year_beside_the_previous_year(client, council, two_years):
    for chart in monthly_charts(client, council).values():
        assert texts(chart, "chart-legend") == ["令和5年度", "令和4年度"]
        lines = [node.get("class") for node in chart.iter("polyline")]
        assert lines == ["chart-series chart-series-0", "chart-series chart-series-1"]
        tooltips = [node.text for node in chart.iter("title")]
        assert "3月 令和4年度 2事業所" in tooltips or "3月 令和4年度 1,327事業所" in tooltips


def test_year_figures_beside_the_chart_and_previous_year_in_the_table(client, council, two_years):
    client.force_login(council)
    text = page_text(client)
    assert "単月の推移（令和5年度 合計 164事業所、令和4年度 合計 147事業所）" in re.sub(
        r"<[^>]+>", "", text
    )
    assert "<th>単月（令和4年度）</th>" in text


def test_breakdown_table_under_the_kpi(client, council, two_years):
    client.force_login(council)
    text = re.sub(r"<[^>]+>", "|", page_text(client))
    assert "内訳" in text
    assert re.search(r"標準化\|+（累計）\|+166\|+171\|+521", text)


def test_previous_year_only_when_the_reader_may_read_it(client, council, staff_11, two_years):
    BranchPlan.objects.filter(fiscal_year__start_year=2022).update(status=BranchPlan.Status.DRAFT)
    for chart in monthly_charts(client, council).values():
        assert texts(chart, "chart-legend") == ["令和5年度"]
    assert "単月（令和4年度）" not in page_text(client)
    for chart in monthly_charts(client, staff_11).values():
        assert texts(chart, "chart-legend") == ["令和5年度", "令和4年度"]
