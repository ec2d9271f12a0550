"""A plan's multi-year columns: in a 令和6年度 plan, 令和4年度実績 / 令和5年度目標 /
令和5年度実績 are the earlier years' figures of the same KPI (same branch and indicator).
They fill the stored KPIs of those years where a field is blank, never over a stored value,
through the one write path; a notice says what was filled and what was left."""

import pytest

from kpis.models import Kpi
from tests import factories
from tests.factories_imports import KPI_HEADER, kpi_row, load, xlsx

pytestmark = pytest.mark.django_db

INDICATOR = "現金給付等の申請に係る郵送化率"
HEADER = [*KPI_HEADER, "令和4年度実績", "令和5年度目標", "令和5年度実績"]


def plan_2024(r4_actual="96.1%", r5_target="96.4%以上", r5_actual="96.3%") -> bytes:
    row = kpi_row(年度="令和6年度", 目標="対前年度以上", 実績="", KPI指標=INDICATOR)
    return xlsx([row + [r4_actual, r5_target, r5_actual]], header=HEADER)


def stored(year: int, **fields) -> Kpi:
    return factories.KpiFactory(
        measure__fiscal_year__start_year=year,
        indicator__name=INDICATOR,
        indicator__unit="%",
        **fields,
    )


def kpi_of(year: int) -> Kpi:
    return Kpi.objects.get(fiscal_year__start_year=year, indicator__name=INDICATOR)


def test_blank_fields_of_the_earlier_years_kpis_are_filled():
    stored(2023, target_text="", actual_text="")
    stored(2022, actual_text="")

    batch = load(plan_2024())

    assert (kpi_of(2023).target_text, kpi_of(2023).actual_text) == ("96.4%以上", "96.3%")
    assert kpi_of(2022).actual_text == "96.1%"
    assert kpi_of(2024).previous_actual_text == "96.3%"
    assert kpi_of(2023).history.first().history_change_reason.startswith(f"取り込み #{batch.pk}")
    assert any("3件は空欄だったので入れました" in n for n in batch.notices), batch.notices


def test_stored_values_are_never_overwritten_and_the_notice_says_so():
    stored(2023, target_text="96.0%以上", actual_text="96.3%")

    batch = load(plan_2024(r4_actual=""))

    assert kpi_of(2023).target_text == "96.0%以上"
    assert any(
        "1件は保存済みの値と異なるため変更しません" in n and "保存済み「96.0%以上」" in n
        for n in batch.notices
    ), batch.notices


def test_a_year_without_its_kpi_is_left_with_a_notice():
    batch = load(plan_2024(r5_actual=""))

    assert list(Kpi.objects.values_list("fiscal_year__start_year", flat=True)) == [2024]
    assert any("2件はその年度のKPIがないため取り込みません" in n for n in batch.notices)


def test_tags_in_an_earlier_years_target_are_this_kpis_tags():
    stored(2023, target_text="")

    load(plan_2024(r4_actual="", r5_target="【新設】", r5_actual=""))

    assert (kpi_of(2023).target_text, kpi_of(2024).tags) == ("", "【新設】")
