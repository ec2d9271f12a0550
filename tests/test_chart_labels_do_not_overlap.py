"""No chart draws text over text: branch names, values, axis ticks, the legend, the target
and the 全国平均 label each keep a box of their own, and stay inside the chart.

The boxes are estimated the way kpis.charts places them (characters × em); the browser
test of the pages compares the boxes Chromium draws."""

import itertools
import re
import xml.etree.ElementTree as ET
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpis import charts
from kpis.models import BranchPlan, Kpi, MonthlyValue
from tests import factories
from tests.factories_pages import BranchPlanFactory

PREFECTURE_NAMES = ["北海道", "神奈川", "和歌山", "鹿児島", "東京", "大阪", "京都", "沖縄"]


def text_boxes(svg: str) -> list[tuple[str, charts.Box]]:
    """Every <text> of one <svg> with the box its font size, position and anchor give it."""
    root = ET.fromstring(svg)
    size = float(root.get("font-size"))
    return [
        (
            node.text,
            charts.text_box(
                node.text,
                float(node.get("x")),
                float(node.get("y")),
                node.get("text-anchor", "start"),
                size,
            ),
        )
        for node in root.iter("text")
    ]


def assert_no_text_overlaps(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    _, _, width, height = map(float, root.get("viewBox").split())
    boxes = text_boxes(svg)
    for (text_a, a), (text_b, b) in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), f"「{text_a}」 and 「{text_b}」 overlap"
    for text, box in boxes:
        assert box.within(charts.Box(0, 0, width, height)), f"「{text}」 leaves the chart"
    return [text for text, _ in boxes]


def assert_no_line_crosses_text(svg: str) -> None:
    """The 全国平均 line and the target marks (vertical) run through no text."""
    root = ET.fromstring(svg)
    boxes = text_boxes(svg)
    for line in root.iter("line"):
        if not {"chart-reference", "chart-target"} & set(line.get("class").split()):
            continue
        x, top, bottom = float(line.get("x1")), float(line.get("y1")), float(line.get("y2"))
        for text, box in boxes:
            crossed = box.left < x < box.right and box.top < bottom and top < box.bottom
            assert not crossed, f"a line at x={x} runs through 「{text}」"


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", html, re.S)


@pytest.mark.django_db
def test_comparison_of_47_branches_with_targets_and_national_average(client, council):
    indicator = factories.IndicatorFactory(name="特定健診実施率", slug="kenshin", unit="%")
    year = factories.FiscalYearFactory(start_year=2023)
    for number, branch in enumerate(factories.Branch.objects.order_by("order")):
        BranchPlanFactory(branch=branch, fiscal_year=year, status=BranchPlan.Status.PUBLISHED)
        measure = factories.MeasureFactory(branch=branch, fiscal_year=year)
        # Actuals a tenth apart around the average and targets beside them: the 全国平均
        # line and the target marks run through the middle of the bars.
        factories.KpiFactory(
            measure=measure,
            indicator=indicator,
            target_text=f"{55 + number % 5}.0%以上",
            actual_text=f"{53 + number / 10:.1f}%",
            national_average_text="55.3%",
        )
    client.force_login(council)
    (chart,) = svgs(client.get("/indicators/kenshin/2023/").content.decode())

    texts = assert_no_text_overlaps(chart)
    assert_no_line_crosses_text(chart)
    assert "全国平均 55.3%" in texts
    assert "目標（各支部）" in texts
    assert sum(text in texts for text in ("北海道", "神奈川", "鹿児島", "沖縄")) == 4
    assert chart.count('class="chart-bar"') == 47


@pytest.mark.django_db
def test_monthly_charts_of_close_values_in_two_years(client, admin):
    plan = BranchPlanFactory(fiscal_year=factories.FiscalYearFactory(start_year=2022))
    BranchPlanFactory(fiscal_year=factories.FiscalYearFactory(start_year=2023))
    indicator = factories.IndicatorFactory(name="郵送化率", slug="yuso", unit="%")
    for year, base in ((2022, 96), (2023, 95)):
        kpi = factories.KpiFactory(
            measure=factories.MeasureFactory(
                branch=plan.branch, fiscal_year=factories.FiscalYearFactory(start_year=year)
            ),
            indicator=indicator,
            target_text="95.5%以上",
        )
        for month in range(1, 13):
            for series in MonthlyValue.Series:
                factories.MonthlyValueFactory(
                    kpi=kpi, month=month, series=series, text=f"{base}.{month % 3}%"
                )
    client.force_login(admin)
    html = client.get("/branches/11/2023/").content.decode()
    single, cumulative = [svg for svg in svgs(html) if "月次実績" in svg]
    for chart in (single, cumulative):
        texts = assert_no_text_overlaps(chart)
        assert {"令和5年度", "令和4年度", "4月", "3月"} <= set(texts)
    # The target is read against the year's running total.
    assert "目標：95.5%以上" in assert_no_text_overlaps(cumulative)
    assert Kpi.objects.count() == 2


def values(low: int, high: int):
    return st.decimals(low, high, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(st.tuples(st.sampled_from(PREFECTURE_NAMES), values(0, 100)), max_size=47),
    targets=st.lists(st.one_of(st.none(), values(0, 100)), min_size=47, max_size=47),
    average=st.one_of(st.none(), values(0, 100)),
)
def test_bar_chart_labels_never_overlap(rows, targets, average):
    chart = charts.bar_chart(
        [(name, value, target) for (name, value), target in zip(rows, targets, strict=False)],
        unit="%",
        title="比較",
        reference=charts.Reference(f"全国平均 {average}%", average) if average else None,
    )
    if rows:
        assert_no_text_overlaps(chart)
        assert_no_line_crosses_text(chart)


months = st.lists(st.one_of(st.none(), values(-50, 2000)), min_size=12, max_size=12)


@settings(max_examples=25, deadline=None)
@given(this_year=months, last_year=months, target=st.one_of(st.none(), values(-50, 2000)))
def test_line_chart_labels_never_overlap(this_year, last_year, target):
    chart = charts.line_chart(
        [f"{month}月" for month in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)],
        [charts.Series("令和5年度", this_year), charts.Series("令和4年度", last_year)],
        unit="件",
        title="月次",
        reference=charts.Reference(f"目標：前年度（{target}件）以上", target) if target else None,
    )
    if any(value is not None for value in this_year + last_year):
        assert_no_text_overlaps(chart)


@settings(max_examples=15, deadline=None)
@given(st.lists(values(0, 100), min_size=2, max_size=6))
def test_trend_chart_labels_never_overlap(numbers):
    chart = charts.trend_chart(
        list(range(2024 - len(numbers), 2024)), numbers, unit="%", title="推移"
    )
    assert_no_text_overlaps(chart)


def test_close_values_keep_every_value_in_a_tooltip():
    """A value label left out where it would overlap stays readable on hover."""
    close = [D("95.1"), D("95.2"), D("95.1"), D("95.2")] * 3
    chart = charts.line_chart(
        [f"{m}月" for m in range(1, 13)],
        [charts.Series("令和5年度", close), charts.Series("令和4年度", close)],
        unit="%",
        title="月次",
    )
    assert_no_text_overlaps(chart)
    assert chart.count("<title>") == 1 + 24
