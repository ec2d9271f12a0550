"""Headers as people write them are recognised without asking: KPI / 指標 for the indicator,
目標値 and 令和5年度目標 for the target, 実績値 / R5実績 for the actual (a year in the header
is read against the row's year), 施策名 / 具体的な施策, 番号 / No., 支部 / 支部名, 評価 /
達成状況 — while the indicator catalogue sheet (指標 …) is still the catalogue."""

import pytest

from imports import pipeline
from kpis.models import Indicator, Kpi
from tests.factories_imports import load, problems, xlsx

pytestmark = pytest.mark.django_db

ROW = {
    "branch": "11",
    "year": "令和5年度",
    "pillar": "1 基盤的保険者機能関係",
    "number": "(2)",
    "measure": "サービス水準の向上",
    "indicator": "現金給付等の申請に係る郵送化率",
    "target": "96.5%以上",
    "actual": "95.0%",
    "mark": "△",
}


def sheet(**headers) -> bytes:
    """One KPI row under the given headers ({field: header})."""
    names = {
        "branch": "支部コード",
        "year": "年度",
        "pillar": "区分",
        "number": "施策番号",
        "measure": "施策",
        "indicator": "KPI指標",
        "target": "目標",
        "actual": "実績",
        "mark": "結果",
        **headers,
    }
    return xlsx([[ROW[key] for key in names]], header=list(names.values()))


def only_kpi() -> Kpi:
    return Kpi.objects.select_related("indicator", "measure").get()


@pytest.mark.parametrize("header", ["KPI", "KPI名", "指標", "指標名", "ＫＰＩ"])
def test_indicator_headers(header):
    load(sheet(indicator=header))

    assert only_kpi().indicator.name == ROW["indicator"]


@pytest.mark.parametrize("header", ["目標値", "目標（KPI）", "KPI 目標", "令和5年度目標", "R5目標"])
def test_target_headers(header):
    load(sheet(target=header))

    assert only_kpi().target_text == "96.5%以上"


@pytest.mark.parametrize(
    "header", ["実績値", "令和5年度実績", "R5実績", "2023年度実績", "KPI 結果"]
)
def test_actual_headers(header):
    load(sheet(actual=header))

    assert only_kpi().actual_text == "95.0%"


@pytest.mark.parametrize("header", ["令和4年度実績", "R4実績"])
def test_last_years_actual_under_a_year_header_is_the_previous_actual(header):
    load(sheet(actual=header))

    kpi = only_kpi()
    assert (kpi.actual_text, kpi.previous_actual_text) == ("", "95.0%")


@pytest.mark.parametrize("header", ["施策名", "具体的施策", "具体的な施策"])
def test_measure_headers(header):
    load(sheet(measure=header))

    assert only_kpi().measure.title == ROW["measure"]


@pytest.mark.parametrize("header", ["番号", "No.", "施策No"])
def test_measure_number_headers(header):
    load(sheet(number=header))

    assert only_kpi().measure.number_label == "(2)"


@pytest.mark.parametrize("header", ["支部", "支部名"])
def test_branch_name_headers(header):
    load(sheet(branch=header))

    assert only_kpi().branch.code == "11"


@pytest.mark.parametrize("header", ["結果", "評価", "達成状況"])
def test_mark_headers(header):
    load(sheet(mark=header))

    assert (only_kpi().mark, only_kpi().mark_source) == ("△", Kpi.MarkSource.MANUAL)


def test_a_branch_code_and_a_branch_name_column_read_the_code_and_ignore_the_name():
    header = ["支部コード", "支部", "年度", "区分", "施策番号", "施策", "KPI指標"]
    row = ["11", "埼玉支部", "令和5年度", "1 基盤的保険者機能関係", "(2)", "施策", "郵送化率"]

    validated = pipeline.read_and_validate(xlsx([row], header=header), "kpi.xlsx")

    assert (validated.problems, validated.unmapped) == ([], [])
    assert [branch.code for branch, _ in validated.pairs] == ["11"]


def test_a_this_year_figure_in_two_columns_with_different_values_is_refused():
    header = ["支部コード", "年度", "区分", "施策番号", "施策", "KPI指標", "実績", "令和5年度実績"]
    row = ["11", "令和5年度", "1 基盤的保険者機能関係", "(2)", "施策", "郵送化率", "95%", "94%"]

    assert problems(xlsx([row], header=header)) == [
        "KPI!H2: 実績が2列に異なる値で書かれています（「95%」と「94%」）"
    ]


def test_the_indicator_catalogue_sheet_with_a_指標_header_is_still_the_catalogue():
    header = ["支部", "年度", "区分", "番号", "施策名", "指標", "目標値", "実績値", "評価"]
    catalogue = [["指標", "単位", "方向", "月次の集計"], [ROW["indicator"], "%", "lower", "時点"]]

    load(xlsx([list(ROW.values())], header=header, extra_sheets=[("指標", catalogue)]))

    assert Indicator.objects.get().direction == "lower"
    assert only_kpi().target_text == "96.5%以上"
