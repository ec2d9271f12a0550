"""Exports are in the import formats: exporting and importing again changes nothing, and an
export imported into an empty database gives the same export back."""

import io

import pytest
from openpyxl import load_workbook

from imports import pipeline
from kpis.exports import (
    KPI_HEADER,
    neutralise,
    plan_for_export,
    write_kpis_csv,
    write_kpis_xlsx,
    write_monthly_csv,
    write_monthly_xlsx,
)
from kpis.models import (
    BranchPlan,
    FiscalYear,
    Indicator,
    Kpi,
    Measure,
    MonthlyValue,
    Pillar,
)
from tests import factories
from tests.factories_imports import database_state, demo, load

pytestmark = pytest.mark.django_db

DEMO = ["chiba_2024_kpi.xlsx", "gunma_2023_kpi.xlsx", "saitama_2023_kpi.xlsx"]


@pytest.fixture
def demo_data(db):
    for name in [*DEMO, "gunma_2023_monthly.xlsx"]:
        load(demo(name), name)


def kpi_export(format: str) -> bytes:
    kpis, activities, measures = plan_for_export()
    if format == "csv":
        text = io.StringIO(newline="")
        write_kpis_csv(kpis, text, activities=activities, measures=measures)
        return text.getvalue().encode("utf-8")
    buffer = io.BytesIO()
    write_kpis_xlsx(kpis, buffer, activities=activities, measures=measures)
    return buffer.getvalue()


def monthly_export(format: str) -> bytes:
    if format == "csv":
        text = io.StringIO(newline="")
        write_monthly_csv(MonthlyValue.objects.all(), text)
        return text.getvalue().encode("utf-8")
    buffer = io.BytesIO()
    write_monthly_xlsx(MonthlyValue.objects.all(), buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_exports_reimport_without_changes(demo_data, format):
    before = database_state()

    for content in (kpi_export(format), monthly_export(format)):
        analysis = pipeline.analyse(content, f"export.{format}")
        assert analysis.problems == []
        assert not analysis.plan.has_changes, analysis.plan.counts()

    assert database_state() == before


def test_csv_export_is_utf8_with_bom_and_the_agreed_columns(demo_data):
    text = kpi_export("csv").decode("utf-8")
    assert text.startswith("\ufeff")
    assert text.removeprefix("\ufeff").split("\r\n", 1)[0] == ",".join(KPI_HEADER)
    assert KPI_HEADER[:15] == [
        "支部コード",
        "支部",
        "年度",
        "区分",
        "施策番号",
        "施策",
        "事業内容",
        "KPI指標",
        "単位",
        "目標",
        "実績",
        "前年度実績",
        "達成",
        "結果",
        "結果の根拠",
    ]


def test_xlsx_export_into_an_empty_database_gives_the_same_export(demo_data):
    first = kpi_export("xlsx")
    monthly = monthly_export("xlsx")
    for model in (MonthlyValue, Kpi, Measure, BranchPlan, Indicator, Pillar, FiscalYear):
        model.objects.all().delete()

    load(first, "export.xlsx")
    load(monthly, "monthly.xlsx")

    assert sheet_rows(kpi_export("xlsx")) == sheet_rows(first)
    assert sheet_rows(monthly_export("xlsx")) == sheet_rows(monthly)


def sheet_rows(content: bytes) -> dict:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return {sheet.title: list(sheet.values) for sheet in workbook.worksheets}


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+2", "'=1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-テスト", "'-テスト"),
        ("-5", "-5"),
        ("-1,200.5", "-1,200.5"),
        ("+3%", "+3%"),
        ("-5件", "'-5件"),  # only a plain number stays: anything after it might be a formula
        ("+3%以上", "'+3%以上"),
        ("-", "'-"),
        ("'quoted", "''quoted"),  # the importer takes one apostrophe off
        ("△5", "△5"),
        ("96.5%以上", "96.5%以上"),
    ],
)
def test_formula_injection_is_neutralised_but_plain_numbers_stay(text, written):
    assert neutralise(text) == written


def test_neutralised_cells_import_as_they_were_written():
    kpi = factories.KpiFactory(
        target_text="96.5%以上",
        actual_text="95%",
        note='=HYPERLINK("http://example.com")',
        measure__title="@施策",
        measure__fiscal_year__start_year=2023,
    )
    kpis, activities, measures = plan_for_export()
    text = io.StringIO(newline="")
    write_kpis_csv(kpis, text, activities=activities, measures=measures)
    assert "'=HYPERLINK" in text.getvalue()

    analysis = pipeline.analyse(text.getvalue().encode("utf-8"), "export.csv")

    assert analysis.problems == []
    counts = {row["model"]: row for row in analysis.plan.counts()}
    assert counts["kpi"]["unchanged"] == 1 and counts["measure"]["unchanged"] == 1
    assert Kpi.objects.get().note == kpi.note


def test_the_report_columns_round_trip():
    kpi = factories.KpiFactory(
        measure__fiscal_year__start_year=2023,
        measure__number_label="(1)-2",
        measure__pillar_label="基盤的保険者機能の盤石化",
        measure__importance_reason="国の施策であるため",
        measure__difficulty_reason="申請が増えているため",
        description="郵送化率を96.5%以上とする",
        activity_number=3,
        subgroup="被保険者 (生活習慣病予防健診)",
        tags="【新設】",
        target_text="96.5%以上",
    )
    content = kpi_export("xlsx")
    Kpi.objects.all().delete()
    Measure.objects.all().delete()

    load(content, "export.xlsx")

    again = Kpi.objects.select_related("measure").get()
    fields = ("description", "activity_number", "subgroup", "tags", "target_text")
    assert [getattr(again, f) for f in fields] == [getattr(kpi, f) for f in fields]
    measure_fields = (
        "number_label",
        "sort_key",
        "pillar_label",
        "importance_reason",
        "difficulty_reason",
    )
    assert [getattr(again.measure, f) for f in measure_fields] == [
        getattr(kpi.measure, f) for f in measure_fields
    ]
    assert sheet_rows(kpi_export("xlsx")) == sheet_rows(content)
