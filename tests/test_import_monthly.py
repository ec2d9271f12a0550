"""Monthly workbooks: one row per KPI series, months 4月 … 3月 in the notation."""

import pytest

from imports import pipeline
from kpis.models import MonthlyValue
from tests import factories
from tests.factories_imports import MONTHLY_HEADER, database_state, kpi_row, load, monthly_row, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def kpi(db):
    load(xlsx([kpi_row()]))


def monthly(rows, header=MONTHLY_HEADER):
    return xlsx(rows, header=header, title="月次")


def values(series=MonthlyValue.Series.SINGLE):
    rows = MonthlyValue.objects.filter(series=series).order_by("month")
    return {v.month: (v.text, v.value, v.unit) for v in rows}


def test_months_are_calendar_months_in_fiscal_order(kpi, admin):
    batch = load(
        monthly([monthly_row(months=["95.3%", "96%", "", "", "", "", "", "", "", "97.1%"])]),
        user=admin,
    )

    assert batch.kind == "monthly"
    assert set(values()) == {4, 5, 1}
    assert values()[1][0] == "97.1%"
    value = MonthlyValue.objects.get(month=4)
    assert (value.updated_by, value.version) == (admin, 1)
    assert value.history.first().history_change_reason == f"取り込み #{batch.pk}"


@pytest.mark.parametrize("labels", [["4", "5"], ["4月分", "5月分"], ["４月", "５月"]])
def test_month_header_spellings(kpi, labels):
    header = ["支部コード", "年度", "KPI指標", "系列", *labels]
    load(monthly([["11", "R5", "現金給付等の申請に係る郵送化率", "単月", "95%", "96%"]], header))
    assert set(values()) == {4, 5}


def test_single_and_cumulative_series(kpi):
    load(
        monthly(
            [
                monthly_row(series="単月", months=["95%"]),
                monthly_row(series="累計", months=["95.5%"]),
            ]
        )
    )
    assert values(MonthlyValue.Series.CUMULATIVE)[4][0] == "95.5%"
    assert values(MonthlyValue.Series.SINGLE)[4][0] == "95%"


def test_bare_numbers_take_the_indicators_unit_and_accounting_minus_reads(kpi):
    factories.IndicatorFactory(name="前年差", unit="円")
    load(xlsx([kpi_row(**{"KPI指標": "前年差", "単位": "円", "目標": "0円以上", "実績": ""})]))
    # A negative "as at" figure is implausible but possible: written once confirmed.
    rows = monthly([monthly_row(indicator="前年差", months=["1,234", "△5", "4円"])])
    load(rows, confirm_warnings=True)
    texts = {month: text for month, (text, _, _) in values().items()}
    assert texts == {4: "1,234円", 5: "△5円", 6: "4円"}
    assert values()[5][1] == -5


def test_blank_months_leave_stored_values_alone_and_updates_bump_the_version(kpi):
    load(monthly([monthly_row(months=["95%", "96%"])]))

    batch = load(monthly([monthly_row(months=["95%", "", "97%"])]))

    assert {m: t for m, (t, _, _) in values().items()} == {4: "95%", 5: "96%", 6: "97%"}
    counts = {row["model"]: row for row in batch.counts}["monthlyvalue"]
    assert (counts["create"], counts["update"], counts["unchanged"], counts["untouched"]) == (
        1,
        0,
        1,
        1,
    )
    load(monthly([monthly_row(months=["94%"])]))
    assert MonthlyValue.objects.get(month=4).version == 2


def test_reimport_changes_nothing(kpi):
    content = monthly(
        [monthly_row(months=["95%", "96%"]), monthly_row(series="累計", months=["95%"])]
    )
    load(content)
    before = database_state()

    analysis = pipeline.analyse(content, "月次.xlsx")

    assert not analysis.plan.has_changes
    assert database_state() == before


def test_a_value_in_another_unit_is_refused(kpi):
    analysis = pipeline.analyse(monthly([monthly_row(months=["95%", "2,657件"])]), "月次.xlsx")
    assert [str(p) for p in analysis.problems] == [
        "月次!F2: 5月: 単位「件」がこの指標の単位「%」と合いません（「2,657件」）。"
    ]


def test_same_series_twice_is_a_duplicate(kpi):
    analysis = pipeline.analyse(
        monthly([monthly_row(months=["95%"]), monthly_row(months=["96%"])]), "月次.xlsx"
    )
    assert [str(p) for p in analysis.problems] == [
        "月次!C3: 埼玉支部 令和5年度「現金給付等の申請に係る郵送化率」の単月が2行目にもあります"
    ]
