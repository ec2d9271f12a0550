"""The branches' progress sheet (進捗表, seed 003 Gunma) imports as a monthly workbook: one
block per KPI, rows per fiscal year under 単月 / 累計 captions, breakdown rows between them,
and a last column 合計 / 計 / 累計 / 平均 stored as the series' written year figure."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from imports import pipeline, progress_sheet
from imports.applying import undo
from imports.reading import Sheet
from kpis.exports import write_monthly_xlsx
from kpis.models import Indicator, Kpi, MonthlyBreakdown, MonthlyValue
from tests import factories
from tests.factories_imports import demo, load, save

pytestmark = pytest.mark.django_db

MONTHS = [f"{m}月" for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]
RATE = "サービススタンダード達成率"
COUNT = "健康宣言事業所の新規宣言数"
DAYS = "現金給付の平均所要日数"
TITLE = ["令和5年度 群馬支部事業計画"]


def caption(label, last="計", *, number=None, text=None):
    return [number, None, text, label, *MONTHS, last]


def series(label, months, last=None):
    return [None, None, None, label, *months, *[""] * (12 - len(months)), last]


RATE_BLOCK = [
    caption("達成率", number=1, text="(1)現金給付の申請受付から支給までの標準期間を遵守する。"),
    series("令和4年度", ["100%"] * 12, "100%"),
    series("傷病手当金", ["2,657", "2,826"] + [""] * 10, "37,478"),
    [None, None, f"【KPI】{RATE}", "合計", "2,974", "3,206"] + [None] * 10 + ["41,873"],
    caption("達成率"),  # the same KPI, the next year's table
    series("令和5年度", ["100%"] * 11 + ["99%"], "100%"),
    series("傷病手当金", ["2,481"], "27,962"),
    [None, None, None, "※【本部定期】支給状況報告書について"],
]
COUNT_BLOCK = [
    caption("単月", "合計", number=2, text=COUNT),
    series("令和4年度", ["7", "11", "24", "7", "4", "", "43", "7", "", "1", "21", "17"], "142"),
    series("令和5年度", ["0", "0", "1", "3", "", "0", "", "", "0", "0", "0", "1"], "6"),
    caption("累計", "累計"),  # names no KPI: the cumulative table of the one above
    series("令和4年度", ["1,191", "1,202"], "1,314"),
    series("令和5年度", ["1,341"], "1,470"),
    series("標準化", ["166", "171"]),
]
DAYS_BLOCK = [
    caption(DAYS, "平均", number=3),
    series("令和5年度", ["7.76", "6.70", "6.25"] + [""] * 9, "6.90"),
]


def sheet(*blocks, title=TITLE) -> bytes:
    workbook = Workbook()
    ws = workbook.active
    ws.title = "進捗"
    ws.append(title)
    ws.append([])
    ws.append(["項番", "事業", "実施概要", "進捗状況"])
    for block in blocks:
        for row in block:
            ws.append(row)
    return save(workbook)


@pytest.fixture
def kpis(db):
    gunma = factories.branch("10")
    indicators = {
        RATE: factories.IndicatorFactory(name=RATE, unit="%"),
        COUNT: factories.IndicatorFactory(name=COUNT, unit="", aggregation="sum"),
        DAYS: factories.IndicatorFactory(name=DAYS, unit="", aggregation="sum"),
    }
    for year in (2022, 2023):
        measure = factories.MeasureFactory(branch=gunma, fiscal_year__start_year=year)
        for name, indicator in indicators.items():
            if name != DAYS or year == 2023:
                factories.KpiFactory(measure=measure, indicator=indicator, target_text="")


def kpi(name, year) -> Kpi:
    return Kpi.objects.get(indicator__name=name, fiscal_year__start_year=year)


def months(name, year, series="single") -> dict:
    values = MonthlyValue.objects.filter(kpi=kpi(name, year), series=series)
    return {v.month: v.text for v in values}


def test_both_years_each_series_and_the_written_year_figures(kpis):
    load(sheet(RATE_BLOCK, COUNT_BLOCK, DAYS_BLOCK), "進捗.xlsx", confirm_warnings=True)

    assert months(RATE, 2022) == dict.fromkeys([4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3], "100%")
    assert months(RATE, 2023)[3] == "99%"
    assert months(COUNT, 2022)[10] == "43" and 9 not in months(COUNT, 2022)
    assert months(COUNT, 2022, "cumulative") == {4: "1,191", 5: "1,202"}
    assert months(COUNT, 2023, "cumulative") == {4: "1,341"}
    figures = [
        (k.indicator.name, k.fiscal_year.start_year, k.single_year_figure,
         k.single_year_figure_label, k.cumulative_year_figure, k.cumulative_year_figure_label)
        for k in Kpi.objects.all()
    ]  # fmt: skip
    assert sorted(figures) == sorted(
        [
            (DAYS, 2023, "6.90", "平均", "", ""),
            (RATE, 2022, "100%", "計", "", ""),
            (RATE, 2023, "100%", "計", "", ""),
            (COUNT, 2022, "142", "合計", "1,314", "累計"),
            (COUNT, 2023, "6", "合計", "1,470", "累計"),
        ]
    )


def test_breakdown_rows_belong_to_the_year_above_them(kpis):
    load(sheet(RATE_BLOCK, COUNT_BLOCK, DAYS_BLOCK), "進捗.xlsx", confirm_warnings=True)

    rows = {
        (b.kpi.fiscal_year.start_year, b.label): (b.series, b.months, b.year_figure, b.order)
        for b in MonthlyBreakdown.objects.select_related("kpi__fiscal_year")
    }
    assert rows == {
        (2022, "傷病手当金"): ("single", {"4": "2,657", "5": "2,826"}, "37,478", 1),
        (2022, "合計"): ("single", {"4": "2,974", "5": "3,206"}, "41,873", 2),
        (2023, "傷病手当金"): ("single", {"4": "2,481"}, "27,962", 1),
        (2023, "標準化"): ("cumulative", {"4": "166", "5": "171"}, "", 1),
    }
    assert {b.year_figure_label for b in MonthlyBreakdown.objects.exclude(year_figure="")} == {"計"}


def test_a_total_that_disagrees_with_the_months_is_a_warning(kpis):
    content = sheet(RATE_BLOCK, COUNT_BLOCK, DAYS_BLOCK)

    analysis = pipeline.analyse(content, "進捗.xlsx")

    assert analysis.problems == []
    # 令和4年度 adds up (142) and the 平均 of 令和5年度 agrees; 令和5年度's 合計 does not
    assert [str(w) for w in analysis.warnings] == [
        "進捗!Q14: 合計「6」が月の値の合計（5）と一致しません（空欄の月があります）。"
        "記載のとおり取り込みます"
    ]
    batch, _ = pipeline.import_file(content, "進捗.xlsx")
    assert batch is None and not MonthlyValue.objects.exists()


def test_an_average_that_disagrees_is_a_warning(kpis):
    days = [caption(DAYS, "平均"), series("令和5年度", ["7.76", "6.70", "6.25"], "8.76")]

    warnings = [str(w) for w in pipeline.analyse(sheet(days), "進捗.xlsx").warnings]

    assert warnings == [
        "進捗!Q5: 平均「8.76」が月の値の平均（6.90）と一致しません（空欄の月があります）。"
        "記載のとおり取り込みます"
    ]


def test_a_block_naming_no_known_kpi_is_an_error_naming_its_row(kpis):
    unknown = [caption("件数", "合計"), series("令和5年度", ["1", "2"], "3")]

    problems = [str(p) for p in pipeline.analyse(sheet(RATE_BLOCK, unknown), "進捗.xlsx").problems]

    assert problems == [
        "進捗!D12: 12行目の表（見出し「件数」）がどのKPI指標のものか分かりません。"
        "見出しの行（「4月」より左）か表の左の列に、指標の一覧にある名前をそのまま書いてください"
        "（例: 「サービススタンダード達成率」「【KPI】サービススタンダード達成率」）"
    ]


def test_the_branch_comes_from_a_cell_or_the_title(kpis):
    assert pipeline.analyse(sheet(RATE_BLOCK, title=["支部", "群馬"]), "a.xlsx").problems == []
    assert pipeline.analyse(sheet(RATE_BLOCK, title=["支部コード", "10"]), "a.xlsx").problems == []

    problems = [
        str(p) for p in pipeline.analyse(sheet(RATE_BLOCK, title=["令和5年度"]), "a.xlsx").problems
    ]

    assert problems == [
        "進捗: 進捗表の支部が分かりません。最初の表より上に「令和5年度 群馬支部事業計画」の"
        "ような表題か、「支部」のセルと支部名（または支部コード）を並べて書いてください"
    ]


def test_a_breakdown_above_any_year_is_an_error(kpis):
    block = [caption(RATE), series("傷病手当金", ["1"]), series("令和5年度", ["100%"])]

    problems = [str(p) for p in pipeline.analyse(sheet(block), "進捗.xlsx").problems]

    assert problems == [
        "進捗!D5: 内訳の行「傷病手当金」の年度が分かりません。令和5年度のような年度の行の下に"
        "置いてください"
    ]


def progress_sheet_of(monthly: bytes) -> bytes:
    """The demo's 月次 sheet laid out as a progress sheet: per indicator a 単月 and a 累計
    table (the indicator named left of the caption), a row per year."""
    rows = list(load_workbook(io.BytesIO(monthly), read_only=True)["月次"].values)[1:]
    blocks = {}
    for _, year, indicator, label, *values in rows:
        blocks.setdefault((indicator, label), []).append(series(year, values))
    return sheet(
        *(
            [caption(label, text=f"【KPI】{indicator}"), *year_rows]
            for (indicator, label), year_rows in blocks.items()
        )
    )


def test_a_progress_sheet_of_the_demo_data_imports_the_same_values():
    load(demo("gunma_2023_kpi.xlsx"), "gunma_2023_kpi.xlsx")
    content = demo("gunma_2023_monthly.xlsx")
    load(content, "gunma_2023_monthly.xlsx", confirm_warnings=True)
    canonical = sorted(MonthlyValue.objects.values_list("kpi", "month", "series", "text"))
    MonthlyValue.objects.all().delete()

    load(progress_sheet_of(content), "進捗.xlsx", confirm_warnings=True)

    assert sorted(MonthlyValue.objects.values_list("kpi", "month", "series", "text")) == (canonical)
    assert Indicator.objects.count() == 25


def test_undo_restores_the_year_figures_and_removes_the_breakdowns(kpis, admin):
    batch = load(sheet(RATE_BLOCK), "進捗.xlsx", user=admin)
    assert kpi(RATE, 2022).single_year_figure == "100%"

    undo(batch, admin)

    rate = kpi(RATE, 2022)
    assert (rate.single_year_figure, rate.single_year_figure_label) == ("", "")
    assert rate.history.first().history_change_reason == f"取り消し #{batch.pk}"
    assert not MonthlyBreakdown.objects.exists() and not MonthlyValue.objects.exists()


def test_year_figures_round_trip_through_the_monthly_export(kpis):
    load(sheet(RATE_BLOCK, COUNT_BLOCK), "進捗.xlsx", confirm_warnings=True)
    buffer = io.BytesIO()
    write_monthly_xlsx(MonthlyValue.objects.all(), buffer)
    content = buffer.getvalue()
    header, *rows = list(load_workbook(io.BytesIO(content), read_only=True)["月次"].values)
    assert header[-2:] == ("年計", "年計の種類")
    assert ("10", 2022, COUNT, "累計") + ("1,191", "1,202") + (None,) * 10 + (
        "1,314",
        "累計",
    ) in rows

    assert not pipeline.analyse(content, "export.xlsx").plan.has_changes
    Kpi.objects.update(single_year_figure="", cumulative_year_figure="")
    load(content, "export.xlsx", confirm_warnings=True)

    assert kpi(COUNT, 2022).cumulative_year_figure == "1,314"
    assert kpi(RATE, 2023).single_year_figure_label == "計"


def test_a_caption_年度_is_a_progress_sheet_but_a_broken_template_header_is_not(kpis):
    block = [caption("年度", text=f"【KPI】{RATE}"), series("令和5年度", ["100%"])]
    assert pipeline.analyse(sheet(block), "進捗.xlsx").problems == []

    # 系列 missing: the template's header, reported as such (not as a progress sheet)
    header = Sheet("月次", rows=[(1, ("支部コード", "年度", "KPI指標", *MONTHS))])
    assert not progress_sheet.is_progress_sheet(header)
