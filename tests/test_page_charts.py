"""Charts are inline SVG drawn on the server: no script, nothing fetched, values as text."""

import re
from decimal import Decimal as D

from kpis import charts


def test_trend_chart_writes_every_year_and_value():
    svg = charts.trend_chart(
        [2021, 2022, 2023], [D("80.1"), D("82.4"), D("82.9")], unit="%", title="推移"
    )
    for text in ("2021", "2023", "80.1%", "82.4%", "82.9%", "<title>推移</title>"):
        assert text in svg


def test_trend_needs_two_years():
    assert charts.trend_chart([2023], [D("1")], unit="%", title="推移") == ""


def test_monthly_chart_leaves_gaps_for_missing_months():
    months = [f"{m}月" for m in (4, 5, 6, 7)]
    svg = charts.line_chart(
        months,
        [charts.Series("単月", [D("1"), D("2"), None, D("4")])],
        unit="件",
        title="月次",
        reference=charts.Reference("目標：3件以上", D("3")),
    )
    assert svg.count("<polyline") == 2
    assert "目標：3件以上" in svg
    assert "単月" in svg


def test_bar_chart_starts_at_zero_and_marks_targets_and_average():
    svg = charts.bar_chart(
        [("埼玉", D("42.6"), D("53.8")), ("千葉", D("38.0"), None)],
        unit="%",
        title="比較",
        reference=charts.Reference("全国平均 50%", D("50")),
    )
    assert svg.count('class="chart-bar"') == 2
    assert svg.count('class="chart-target"') == 1
    assert "全国平均 50%" in svg
    assert ">0%<" in svg


def test_no_script_and_no_external_reference():
    svg = str(
        charts.bar_chart(
            [("<script>", D("1"), None)], unit="%", title='"><script>alert(1)</script>'
        )
    ) + str(charts.trend_chart([2022, 2023], [D("-3"), D("5")], unit="件", title="t"))
    assert "<script" not in svg
    assert not re.search(r"https?://|href=|xlink", svg)


def test_axis_ends_are_round_numbers():
    scale = charts.Scale.around([D("13.7"), D("41.2")], from_zero=False)
    assert (scale.low, scale.high) == (10, 45)
    assert scale.label(scale.high, "%") == "45%"
    assert charts.Scale.around([D("0.83"), D("0.94")], from_zero=False).label(0.95, "%") == "0.95%"


def test_format_number_drops_database_zeros():
    assert charts.format_number(D("0.830000"), "%") == "0.83%"
    assert charts.format_number(D("8364.000000"), "円") == "8,364円"
    assert charts.format_number(D("100.000000"), "%") == "100%"
    assert charts.format_number(None, "%") == ""
