"""Breakdown series (内訳): the template's 月次内訳 sheet is imported into MonthlyBreakdown
through the write path (versions, history with the channel), undone like any import, and
written back by the monthly export so that export → import changes nothing."""

import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from imports import pipeline
from imports.applying import undo
from kpis.exports import write_monthly_xlsx
from kpis.models import Kpi, MonthlyBreakdown, MonthlyValue
from tests.factories_imports import MONTHLY_HEADER, demo, kpi_row, load, monthly_row, xlsx

pytestmark = pytest.mark.django_db

HEADER = ["支部コード", "年度", "施策番号", "KPI指標", "内訳", "系列"]
HEADER += [f"{m}月" for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]
HEADER += ["年計", "年計の種類", "備考"]
MAIL = "現金給付等の申請に係る郵送化率"


def breakdown_row(label="窓口件数", months=("423", "393"), figure="", kind="", note="", **values):
    row = {"支部コード": "11", "年度": "2023", "KPI指標": MAIL, "内訳": label, "系列": "単月"}
    row.update(values)
    cells = [row.get(name, "") for name in HEADER[:6]]
    return cells + list(months) + [""] * (12 - len(months)) + [figure, kind, note]


def workbook(*rows, series=()):
    return xlsx(
        list(series),
        header=MONTHLY_HEADER,
        title="月次",
        extra_sheets=[("月次内訳", [HEADER, *rows])],
    )


@pytest.fixture
def kpi(db):
    load(xlsx([kpi_row()]))
    return Kpi.objects.get()


@pytest.fixture
def gunma(db):
    load(demo("gunma_2023_kpi.xlsx"), "gunma_2023_kpi.xlsx")
    return load(demo("gunma_2023_monthly.xlsx"), "gunma_2023_monthly.xlsx")


def test_the_demo_breakdown_sheet_is_imported_as_written(gunma):
    sickness = MonthlyBreakdown.objects.get(kpi__fiscal_year__start_year=2022, label="傷病手当金")

    assert sickness.kpi.indicator.name == "サービススタンダード達成率"
    assert sickness.series == MonthlyValue.Series.SINGLE
    assert sickness.months["4"] == "2,657" and sickness.months["3"] == "4,002"
    assert (sickness.year_figure, sickness.year_figure_label) == ("37,478", "計")
    assert sickness.note == "支給件数"
    assert sickness.version == 1
    assert sickness.history.get().history_change_reason == f"取り込み #{gunma.pk}"
    standard = MonthlyBreakdown.objects.get(label="標準化")
    assert standard.series == MonthlyValue.Series.CUMULATIVE
    # 27 rows: 4 name no KPI, 1 the 令和4年度 KPI of 健康保険委員 the demo has not
    assert MonthlyBreakdown.objects.count() == 22
    assert any("KPI指標がないため読み飛ばしました" in n for n in gunma.notices)
    assert any("KPIが登録されていない内訳 1行" in n for n in gunma.notices)


def test_a_sheet_of_breakdowns_beside_the_series_is_imported(kpi):
    load(workbook(breakdown_row(), series=[monthly_row(months=["95%"])]))

    assert MonthlyValue.objects.count() == 1
    breakdown = MonthlyBreakdown.objects.get()
    assert (breakdown.kpi, breakdown.label, breakdown.months) == (
        kpi,
        "窓口件数",
        {"4": "423", "5": "393"},
    )


def test_reimport_changes_what_is_written_and_undo_restores_it(kpi, admin):
    first = load(workbook(breakdown_row(figure="4,643", kind="計", note="件数")), user=admin)
    second = load(
        workbook(breakdown_row(months=("430", ""), figure="4,650", kind="計")), user=admin
    )

    breakdown = MonthlyBreakdown.objects.get()
    # a blank month or note leaves the stored one
    assert breakdown.months == {"4": "430", "5": "393"}
    assert (breakdown.year_figure, breakdown.note, breakdown.version) == ("4,650", "件数", 2)
    assert breakdown.history.first().history_change_reason == f"取り込み #{second.pk}"
    assert pipeline.analyse(
        workbook(breakdown_row(months=("430", ""), figure="4,650", kind="計")), "again.xlsx"
    ).plan.counts()[-1] == {
        "model": "monthlybreakdown",
        "label": "月次実績の内訳",
        "create": 0,
        "update": 0,
        "unchanged": 1,
        "untouched": 0,
    }

    undo(second, admin)
    breakdown.refresh_from_db()
    assert breakdown.months == {"4": "423", "5": "393"}
    assert breakdown.year_figure == "4,643"
    assert breakdown.history.first().history_change_reason == f"取り消し #{second.pk}"

    undo(first, admin)
    assert not MonthlyBreakdown.objects.exists()


def test_a_later_change_blocks_the_undo(kpi, admin):
    first = load(workbook(breakdown_row()), user=admin)
    load(workbook(breakdown_row(months=("500",))), user=admin)

    with pytest.raises(Exception, match="月次実績の内訳 1件"):
        undo(first, admin)


def test_rows_naming_no_kpi_are_skipped_with_a_notice(kpi):
    batch = load(workbook(breakdown_row(), breakdown_row(label="超過勤務時間", KPI指標="")))

    assert MonthlyBreakdown.objects.count() == 1
    assert any("月次内訳" in n and "3行目" in n for n in batch.notices)


def test_the_same_breakdown_twice_is_an_error(kpi):
    analysis = pipeline.analyse(workbook(breakdown_row(), breakdown_row()), "twice.xlsx")

    assert [str(p) for p in analysis.problems] == [
        f"月次内訳!D3: 埼玉支部 令和5年度「{MAIL}」の単月の内訳「窓口件数」が"
        "月次内訳シートの2行目にもあります"
    ]


def monthly_export(**kwargs) -> bytes:
    buffer = io.BytesIO()
    write_monthly_xlsx(MonthlyValue.objects.all(), buffer, **kwargs)
    return buffer.getvalue()


def test_export_and_import_round_trip(gunma):
    content = monthly_export(kpis=Kpi.objects.all())
    sheets = load_workbook(io.BytesIO(content), read_only=True)
    rows = list(sheets["月次内訳"].values)
    assert list(rows[0]) == HEADER
    assert len(rows) == 1 + 22
    # the KPI of 一者応札 has breakdowns and no monthly value: its breakdowns are written
    assert any(row[3] == "一般競争入札に占める一者応札案件の割合" for row in rows)

    assert not pipeline.analyse(content, "export.xlsx").plan.has_changes
    stored = sorted(MonthlyBreakdown.objects.values_list("kpi", "label", "months", "note"))
    MonthlyBreakdown.objects.all().delete()

    load(content, "export.xlsx")

    assert sorted(MonthlyBreakdown.objects.values_list("kpi", "label", "months", "note")) == (
        stored
    )


def test_export_monthly_command_writes_the_breakdown_sheet(gunma, tmp_path):
    path = tmp_path / "monthly.xlsx"
    call_command(
        "export_monthly", "--branch", "10", "--year", "2022", "--format", "xlsx", "--output", path
    )

    rows = list(load_workbook(path, read_only=True)["月次内訳"].values)
    assert {row[1] for row in rows[1:]} == {2022}
    assert rows[1][4:7] == ("傷病手当金", "単月", "2,657")


def test_an_excel_error_in_a_breakdown_month_is_refused_naming_the_cell(kpi):
    analysis = pipeline.analyse(workbook(breakdown_row(months=("#DIV/0!", "393"))), "m.xlsx")

    assert [str(p) for p in analysis.problems] == [
        "月次内訳!G2: 4月がExcelのエラー値「#DIV/0!」です"
    ]
    assert not MonthlyBreakdown.objects.exists()
