"""Every page shows a value as the branch wrote it: `95.0%` and `1.00%` keep their decimals,
`９６．５％` shows half-width as `96.5%`, a minus shows as `△` (`-2` → `△2`); the stored
decimal is only computed with."""

import csv
import io
import re
from decimal import Decimal as D

import openpyxl
import pytest

from kpis import charts
from kpis.models import MonthlyValue
from kpis.notation import as_written
from tests import factories
from tests.factories_pages import BranchPlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def written():
    """埼玉 FY2023 (published): a rate written `95.0%` (FY2022 `1.00%`) with monthly values
    `1.00%` and `９６．５％`, and a net change written `-2`."""
    branch = factories.branch("11")
    rate = factories.IndicatorFactory(name="受診率", slug="jushin", unit="%", aggregation="point")
    change = factories.IndicatorFactory(
        name="事業所数の増減", slug="zougen", unit="", aggregation="sum"
    )
    for year in (2022, 2023):
        BranchPlanFactory(branch=branch, fiscal_year=factories.FiscalYearFactory(start_year=year))
    factories.KpiFactory(
        measure=factories.MeasureFactory(fiscal_year__start_year=2022),
        indicator=rate,
        actual_text="1.00%",
    )
    measure = factories.MeasureFactory(fiscal_year__start_year=2023)
    kpi = factories.KpiFactory(
        measure=measure,
        indicator=rate,
        target_text="96.5%以上",
        actual_text="95.0%",
        previous_actual_text="1.00%",
        national_average_text="９６．５％",
    )
    for month, text in ((4, "1.00%"), (5, "９６．５％")):
        factories.MonthlyValueFactory(
            kpi=kpi, month=month, series=MonthlyValue.Series.SINGLE, text=text
        )
    net = factories.KpiFactory(
        measure=measure, indicator=change, target_text="0以上", actual_text="-2"
    )
    factories.MonthlyValueFactory(kpi=net, month=4, series=MonthlyValue.Series.SINGLE, text="-2")
    return kpi, net


def page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def svgs(html: str) -> str:
    return "".join(re.findall(r"<svg.*?</svg>", html, flags=re.S))


def test_as_written():
    assert as_written("95.0%") == "95.0%"
    assert as_written("1.00%") == "1.00%"
    assert as_written("９６．５％") == "96.5%"
    assert [as_written(t) for t in ("-2", "－2", "▲2", "△2", "−2")] == ["△2"] * 5
    assert as_written("28件（R5.6現在）") == "28件(R5.6現在)"
    assert [as_written(t) for t in ("", None, "-", "―", "　")] == ["—"] * 5
    assert as_written("①効果的な意見発信の実施") == "①効果的な意見発信の実施"


def test_branch_page_and_its_charts(client, admin, written):
    html = page(client, admin, "/branches/11/2023/")
    for shown in ("95.0%", "1.00%", "96.5%", "△2"):
        assert shown in html
    assert "９６．５％" not in html
    # The trend chart labels FY2022 and FY2023 as written, so does the monthly chart.
    drawn = svgs(html)
    assert ">1.00%<" in drawn and ">95.0%<" in drawn
    # The monthly charts are one per series (単月, 累計), their lines the fiscal years.
    assert "4月 令和5年度 1.00%</title>" in drawn and "5月 令和5年度 96.5%</title>" in drawn


def test_kpi_table_and_downloads(client, admin, written):
    html = page(client, admin, "/kpis/?fiscal_year=2023")
    for shown in ("95.0%", "1.00%", "96.5%", "△2"):
        assert shown in html
    assert "９６．５％" not in html

    text = page(client, admin, "/kpis/?fiscal_year=2023&export=csv")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert {(row["実績"], row["前年度実績"]) for row in rows} >= {("95.0%", "1.00%")}
    client.force_login(admin)
    response = client.get("/kpis/?fiscal_year=2023&export=xlsx")
    cells = {
        cell
        for row in openpyxl.load_workbook(io.BytesIO(response.content))["KPI"].iter_rows(
            values_only=True
        )
        for cell in row
    }
    assert {"95.0%", "1.00%"} <= cells


def test_indicator_comparison_and_its_chart(client, admin, written):
    html = page(client, admin, "/indicators/jushin/2023/")
    assert "95.0%" in html and "96.5%" in html and "９６．５％" not in html
    drawn = svgs(html)
    assert ">95.0%<" in drawn and "全国平均 96.5%" in drawn


def test_entry_grid_kpi_page_and_history(client, admin, written):
    kpi, net = written
    grid = page(client, admin, "/entry/11/2023/")
    assert "95.0%" in grid and "△2" in grid
    # The latest value of a point-in-time series is one written value: shown as written.
    assert re.search(r'class="num ytd">.*?96\.5%</td>', grid, flags=re.S)
    kpi_page = page(client, admin, f"/entry/11/2023/kpi/{kpi.pk}/")
    assert "1.00%" in kpi_page and "96.5%" in kpi_page and "９６．５％" not in kpi_page
    history = page(client, admin, "/entry/11/2023/history/")
    for shown in ("95.0%", "1.00%", "96.5%", "△2"):
        assert shown in history
    assert "９６．５％" not in history


def test_chart_labels_show_the_written_text():
    trend = charts.trend_chart(
        [2022, 2023], [D("1.000000"), D("95.000000")], unit="%", title="t", texts=["1.00%", "95.0%"]
    )
    assert ">1.00%<" in trend and ">95.0%<" in trend
    line = charts.line_chart(
        ["4月", "5月"],
        [charts.Series("単月", [D("-2"), D("96.5")], ["-2", "９６．５％"])],
        unit="%",
        title="t",
        reference=charts.Reference("目標 96.5%以上", D("96.5")),
    )
    assert "4月 単月 △2</title>" in line and "5月 単月 96.5%</title>" in line
    assert "目標 96.5%以上" in line
    bars = charts.bar_chart(
        [("埼玉", D("95"), D("96.5"))],
        unit="%",
        title="t",
        texts=[("95.0%", "96.5%以上")],
        reference=charts.Reference("全国平均 1.00%", D("1")),
    )
    assert ">95.0%<" in bars and "目標：96.5%以上" in bars and "全国平均 1.00%" in bars


def test_numbers_no_one_wrote_use_the_triangle_for_minus():
    assert charts.format_number(D("-2.000000"), "件") == "△2件"
    scale = charts.Scale.around([D("-3"), D("5")], from_zero=False)
    assert scale.label(scale.low, "件").startswith("△")
