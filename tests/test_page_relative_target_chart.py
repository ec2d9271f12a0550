"""A relative target (対前年度以上) is drawn where it was evaluated: at the previous year's
actual, labelled 「目標：前年度（0.310%）以上」 — on the monthly chart and as the branch's mark
on the comparison chart — unless that actual belongs to a year the reader may not read."""

import re
import xml.etree.ElementTree as ET

import pytest

from kpis.models import BranchPlan, MonthlyValue
from tests import factories
from tests.factories_pages import BranchPlanFactory

pytestmark = pytest.mark.django_db

RUNNING_RATE = ["0.280%", "0.291%", "0.300%", "0.305%", "0.318%", "0.322%"]


def satei_kpi(year: int, **fields):
    kpi = factories.KpiFactory(
        measure=factories.MeasureFactory(fiscal_year=factories.FiscalYearFactory(start_year=year)),
        indicator=factories.IndicatorFactory(
            name="レセプト点検の査定率", slug="satei", unit="%", direction="higher"
        ),
        **fields,
    )
    for month, text in zip((4, 5, 6, 7, 8, 9), RUNNING_RATE, strict=True):
        factories.MonthlyValueFactory(
            kpi=kpi, month=month, series=MonthlyValue.Series.CUMULATIVE, text=text
        )
    return kpi


def svg_titled(html: str, title: str) -> ET.Element | None:
    for svg in re.findall(r"<svg .*?</svg>", html, re.S):
        root = ET.fromstring(svg)
        if root.find("title").text == title:
            return root
    return None


def monthly_chart(client, user) -> ET.Element:
    client.force_login(user)
    html = client.get("/branches/11/2023/").content.decode()
    return svg_titled(html, "レセプト点検の査定率の月次実績（累計）")


def level_of(chart: ET.Element, y: float) -> float:
    """The value at height y, read from the axis' tick labels (drawn 4 px below their line)."""
    ticks = [
        (float(node.get("y")) - 4, float(node.text.rstrip("%")))
        for node in chart.iter("text")
        if node.get("class") == "chart-tick" and node.get("text-anchor") == "end"
    ]
    (y0, v0), (y1, v1) = ticks[0], ticks[-1]
    return v0 + (y - y0) * (v1 - v0) / (y1 - y0)


def reference(chart: ET.Element) -> tuple[float, list[str]]:
    (line,) = [node for node in chart.iter("line") if node.get("class") == "chart-reference"]
    labels = [
        node.text for node in chart.iter("text") if node.get("class") == "chart-reference-label"
    ]
    return level_of(chart, float(line.get("y1"))), labels


def test_monthly_chart_draws_the_baseline_written_as_the_previous_actual(client, council):
    BranchPlanFactory(fiscal_year=factories.FiscalYearFactory(start_year=2023))
    satei_kpi(2023, target_text="対前年度以上", previous_actual_text="0.310%", actual_text="0.322%")
    level, labels = reference(monthly_chart(client, council))
    assert level == pytest.approx(0.310, abs=0.0005)
    assert labels == ["目標：前年度（0.310%）以上"]


def test_baseline_of_an_unpublished_year_is_not_drawn_for_the_council(client, council, staff_11):
    """The baseline is the stored actual of 令和4年度, whose plan is still a draft."""
    BranchPlanFactory(
        fiscal_year=factories.FiscalYearFactory(start_year=2022), status=BranchPlan.Status.DRAFT
    )
    BranchPlanFactory(fiscal_year=factories.FiscalYearFactory(start_year=2023))
    satei_kpi(2022, target_text="", actual_text="0.295%")
    kpi = satei_kpi(2023, target_text="対前年度以上", actual_text="0.322%")
    assert kpi.baseline_source == "stored_previous"

    chart = monthly_chart(client, council)
    assert not [node for node in chart.iter("line") if node.get("class") == "chart-reference"]
    assert "0.295" not in ET.tostring(chart, encoding="unicode")

    level, labels = reference(monthly_chart(client, staff_11))
    assert level == pytest.approx(0.295, abs=0.0005)
    assert labels == ["目標：前年度（0.295%）以上"]


def test_comparison_chart_marks_a_relative_target_at_its_baseline(client, council):
    BranchPlanFactory(fiscal_year=factories.FiscalYearFactory(start_year=2023))
    satei_kpi(2023, target_text="対前年度以上", previous_actual_text="0.310%", actual_text="0.322%")
    client.force_login(council)
    chart = svg_titled(
        client.get("/indicators/satei/2023/").content.decode(), "レセプト点検の査定率の支部別実績"
    )
    (mark,) = [node for node in chart.iter("line") if node.get("class") == "chart-target"]
    assert mark.find("title").text == "埼玉 目標：前年度（0.310%）以上"
