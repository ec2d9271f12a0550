"""Reading KPI workbooks as branches write them: headers found by label, the accepted
spellings, natural keys, marks, units, the indicator catalogue, and evaluation that stays
consistent across years."""

import pytest

from imports import pipeline
from imports.headers import header_signature
from imports.models import HeaderMapping
from kpis.models import Activity, BranchPlan, FiscalYear, Indicator, Kpi, Measure, Pillar
from tests import factories
from tests.factories_imports import (
    KPI_HEADER,
    activity_row,
    csv_bytes,
    database_state,
    kpi_row,
    load,
    xlsx,
)

pytestmark = pytest.mark.django_db


def only_kpi():
    return Kpi.objects.select_related("indicator", "measure__pillar", "fiscal_year").get()


def test_a_first_import_creates_year_plan_pillar_measure_indicator_and_kpi():
    batch = load(xlsx([kpi_row()]))

    kpi = only_kpi()
    assert kpi.branch.code == "11" and kpi.fiscal_year.start_year == 2023
    assert (kpi.measure.number_label, kpi.measure.title, kpi.measure.group) == (
        "(2)",
        "サービス水準の向上",
        "業務G",
    )
    assert (kpi.measure.pillar.number, kpi.measure.pillar_label) == (1, "基盤的保険者機能関係")
    assert kpi.description == "現金給付等の申請に係る郵送化率を96.5%以上とする"
    assert (kpi.achieved, kpi.mark, kpi.mark_source) == (True, "○", Kpi.MarkSource.COMPUTED)
    assert kpi.indicator.unit == "%" and kpi.indicator.direction == "higher"
    plan = BranchPlan.objects.get()
    assert plan.status == BranchPlan.Status.DRAFT
    assert batch.new_indicators == ["現金給付等の申請に係る郵送化率"]


def test_header_is_found_by_label_in_any_order_below_a_title_with_extra_columns():
    header = ["メモ", *reversed(KPI_HEADER)]
    rows = [["（無視される列）", *reversed(kpi_row())]]
    content = xlsx([["令和5年度 実施状況"], [], header, *rows], header=["埼玉支部"])
    # The admin chose 取り込まない for the extra column (the mapping step).
    HeaderMapping.objects.create(signature=header_signature(tuple(header)), choices={"メモ": ""})

    load(content)

    assert only_kpi().target_text == "96.5%以上"


def test_english_aliases_are_accepted():
    aliases = {
        "支部コード": "branch_code",
        "年度": "fiscal_year",
        "区分": "pillar",
        "施策番号": "measure_no",
        "施策": "measure",
        "KPI指標": "indicator",
        "目標": "target",
        "実績": "actual",
    }
    header = [aliases.get(label, label) for label in KPI_HEADER]

    load(xlsx([kpi_row()], header=header))

    assert only_kpi().actual_text == "96.5%"


@pytest.mark.parametrize(
    ("written", "year"),
    [
        ("2023", 2023),
        ("FY2023", 2023),
        ("令和5年度", 2023),
        ("R5", 2023),
        ("令和元年度", 2019),
        ("令和1年度", 2019),
        ("平成31年度", 2019),
    ],
)
def test_fiscal_year_spellings(written, year):
    load(xlsx([kpi_row(**{"年度": written})]))
    assert only_kpi().fiscal_year.start_year == year


@pytest.mark.parametrize("written", ["11", "埼玉", "埼玉支部", "埼玉県"])
def test_branch_spellings(written):
    load(xlsx([kpi_row(**{"支部コード": written})]))
    assert only_kpi().branch.code == "11"


@pytest.mark.parametrize("written", ["(2)", "（２）", "2"])
def test_measure_number_spellings(written):
    load(xlsx([kpi_row(**{"施策番号": written})]))
    measure = only_kpi().measure
    assert (measure.number_label, measure.sort_key) == (written, "002")


def test_rank_is_read_with_or_without_位():
    load(
        xlsx(
            [
                kpi_row(**{"全国順位": "20位"}),
                kpi_row(**{"KPI指標": "別の指標", "全国順位": "7"}),
            ]
        )
    )
    assert sorted(Kpi.objects.values_list("national_rank", flat=True)) == [7, 20]


@pytest.mark.parametrize(
    ("written", "mark", "source"),
    [
        ("", "○", "computed"),
        ("◎", "◎", "manual"),
        ("〇", "○", "manual"),
        ("達成", "○", "manual"),
        ("未達成", "△", "manual"),
        ("—", "—", "manual"),
    ],
)
def test_a_written_mark_is_a_persons_mark(written, mark, source):
    load(xlsx([kpi_row(**{"結果": written})]))
    kpi = only_kpi()
    assert (kpi.mark, kpi.mark_source, kpi.suggested_mark) == (mark, source, "○")


def test_a_mark_source_column_keeps_computed_marks_computed():
    header = [*KPI_HEADER, "結果の根拠"]
    load(xlsx([[*kpi_row(**{"結果": "◎"}), "computed"]], header=header))
    kpi = only_kpi()
    assert (kpi.mark, kpi.mark_source) == ("○", "computed")


def test_activities_are_numbered_by_their_marker_and_stripped_of_it():
    load(
        xlsx(
            [
                activity_row("① 評議会において議論を行う"),
                activity_row("番号のない文"),
                activity_row("（３）広報誌で情報を提供する", **{"結果": "△"}),
            ]
        )
    )
    activities = list(Activity.objects.order_by("number").values_list("number", "text", "mark"))
    assert activities == [
        (1, "評議会において議論を行う", "○"),
        (2, "番号のない文", "○"),
        (3, "広報誌で情報を提供する", "△"),
    ]


def test_measure_without_kpi_and_kpi_sentence_rows():
    load(xlsx([activity_row("※KPIの設定なし", **{"結果": ""}), kpi_row()]))
    assert Activity.objects.count() == 0
    assert Measure.objects.count() == 2


def test_challenges_and_narrative_on_the_first_row_of_a_measure():
    header = [*KPI_HEADER, "課題", "結果概要"]
    load(
        xlsx(
            [
                [*activity_row("① 一つ目"), "周知が不足", "年4回実施"],
                [*activity_row("② 二つ目"), "", ""],
            ],
            header=header,
        )
    )
    measure = Measure.objects.get()
    assert (measure.challenges, measure.narrative) == ("周知が不足", "年4回実施")


def test_bare_numbers_take_the_unit():
    load(xlsx([kpi_row(**{"目標": "96.5以上", "実績": "97", "前年度実績": "95.25"})]))
    kpi = only_kpi()
    assert (kpi.target_text, kpi.actual_text, kpi.previous_actual_text) == (
        "96.5%以上",
        "97%",
        "95.25%",
    )
    assert kpi.achieved is True


def test_typed_percent_cells_read_as_written_in_excel():
    """Excel stores 96.5% as 0.965 with a % format."""
    from openpyxl import Workbook

    from tests.factories_imports import save

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(KPI_HEADER)
    sheet.append(kpi_row(**{"実績": 0.965, "年度": 2023}))
    sheet["M2"].number_format = "0.0%"
    load(save(workbook))
    assert only_kpi().actual_text == "96.5%"


def test_the_indicator_catalogue_sheet_creates_and_updates_indicators():
    catalogue = [
        ["KPI指標", "単位", "方向", "月次の集計", "定義"],
        ["一者応札の割合", "%", "lower", "累計", "一般競争入札に占める一者応札の割合"],
    ]
    row = kpi_row(**{"KPI指標": "一者応札の割合", "目標": "20%以下", "実績": "6.7%"})
    load(xlsx([row], extra_sheets=[("指標", catalogue)]))

    indicator = Indicator.objects.get()
    assert (indicator.direction, indicator.aggregation) == ("lower", "cumulative")
    assert only_kpi().mark == "◎"

    catalogue[1][4] = "定義を書き直した"
    batch = load(xlsx([row], extra_sheets=[("指標", catalogue)]))
    assert Indicator.objects.get().definition == "定義を書き直した"
    assert {r["model"]: r["update"] for r in batch.counts}["indicator"] == 1


def test_changing_an_indicators_direction_re_evaluates_its_kpis_everywhere():
    row = kpi_row(**{"KPI指標": "割合", "目標": "20%", "実績": "6.7%"})
    other = kpi_row(**{"支部コード": "12", "KPI指標": "割合", "目標": "20%", "実績": "6.7%"})
    load(xlsx([row, other]))
    assert set(Kpi.objects.values_list("mark", flat=True)) == {"△"}
    catalogue = [["KPI指標", "方向"], ["割合", "lower"]]

    load(xlsx([row], extra_sheets=[("指標", catalogue)]))

    assert set(Kpi.objects.values_list("mark", flat=True)) == {"◎"}


def test_previous_year_actual_comes_from_the_same_file_or_the_database():
    relative = {"目標": "対前年度以上", "実績": "96.0%"}
    load(xlsx([kpi_row(**{"年度": "2022", "実績": "95.0%"}), kpi_row(**relative)]))
    kpi = Kpi.objects.get(fiscal_year__start_year=2023)
    assert (kpi.evaluation_baseline, kpi.baseline_source) == (95, "stored_previous")
    assert kpi.achieved is True

    load(xlsx([kpi_row(**{"年度": "2022", "実績": "97.0%"})]))

    kpi.refresh_from_db()
    assert kpi.evaluation_baseline == 97
    assert kpi.achieved is False  # next year's KPI re-evaluated against the new actual


def test_rows_absent_from_the_file_are_left_alone_and_counted():
    load(xlsx([kpi_row(), kpi_row(**{"KPI指標": "別の指標"}), activity_row()]))

    analysis = pipeline.analyse(xlsx([kpi_row(**{"実績": "97%"})]), "kpi.xlsx")

    counts = {row["model"]: row for row in analysis.plan.counts()}
    assert (counts["kpi"]["update"], counts["kpi"]["untouched"]) == (1, 1)
    assert counts["activity"]["untouched"] == 1
    assert any("そのまま残ります" in notice for notice in analysis.notices)


def test_optional_columns_absent_from_the_file_keep_their_values():
    load(xlsx([kpi_row(**{"全国順位": "20位", "備考": "メモ"})]))
    header = ["支部コード", "年度", "区分", "施策番号", "施策", "KPI指標", "実績"]
    row = ["11", "2023", "1 基盤的保険者機能関係", "(2)", "サービス水準の向上"]

    load(xlsx([[*row, "現金給付等の申請に係る郵送化率", "90%"]], header=header))

    kpi = only_kpi()
    assert (kpi.actual_text, kpi.national_rank, kpi.note, kpi.target_text) == (
        "90%",
        20,
        "メモ",
        "96.5%以上",
    )


def test_reimport_is_idempotent_and_matches_on_natural_keys():
    content = xlsx([kpi_row(), activity_row(), activity_row("② 二つ目")])
    load(content)
    before = database_state()

    analysis = pipeline.analyse(content, "kpi.xlsx")

    assert not analysis.plan.has_changes
    assert database_state() == before
    # The three national pillars exist from the first migration on.
    assert (FiscalYear.objects.count(), Pillar.objects.count(), Measure.objects.count()) == (
        1,
        3,
        2,
    )


def test_csv_in_shift_jis_and_utf8_without_bom():
    load(csv_bytes([kpi_row()], encoding="cp932"), "kpi.csv")
    assert only_kpi().target_text == "96.5%以上"
    analysis = pipeline.analyse(csv_bytes([kpi_row()], encoding="utf-8"), "kpi.csv")
    assert not analysis.problems and not analysis.plan.has_changes


def test_an_existing_indicator_is_matched_whatever_its_width_and_spacing():
    factories.IndicatorFactory(name="ジェネリック医薬品使用割合", unit="%")
    load(xlsx([kpi_row(**{"KPI指標": "ｼﾞｪﾈﾘｯｸ医薬品使用割合 "})]))
    assert only_kpi().indicator.name == "ジェネリック医薬品使用割合"
    assert Indicator.objects.count() == 1


def test_hidden_sheet_is_skipped_with_a_notice():
    from openpyxl import Workbook

    from tests.factories_imports import save

    workbook = Workbook()
    workbook.active.append(KPI_HEADER)
    workbook.active.append(kpi_row())
    hidden = workbook.create_sheet("作業用")
    hidden.append(KPI_HEADER)
    hidden.append(kpi_row(**{"支部コード": "99"}))
    hidden.sheet_state = "hidden"

    batch = load(save(workbook))

    assert any("作業用" in notice for notice in batch.notices)


def test_formulas_are_read_as_their_stored_result_with_a_notice():
    import re

    from tests.factories_imports import patched_sheet

    formula = rb'<c r="M2" t="str"><f>"96."&amp;"5%"</f><v>96.5%</v></c>'
    content = patched_sheet(
        xlsx([kpi_row(**{"実績": "x"})]),
        lambda xml: re.sub(rb'<c r="M2"[^>]*>.*?</c>', formula, xml),
    )

    batch = load(content)

    assert only_kpi().actual_text == "96.5%"
    assert any("数式のセル（1個）" in notice for notice in batch.notices)
