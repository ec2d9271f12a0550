"""Exports keep a spreadsheet from running a cell as a formula: every text starting with
= + - @, tab or CR gets a leading apostrophe unless it is a plain number, also when it reads
as a number followed by a note (`-5 (cmd|' /C calc'!A0)`), and the importer reads such a
cell back as it was written, so an export still re-imports without a change."""

import csv
import io

import openpyxl
import pytest
from django.core.management import call_command

from imports import pipeline
from kpis.models import Kpi, MonthlyValue
from tests import factories
from tests.factories_imports import database_state
from tests.factories_pages import BranchPlanFactory

pytestmark = pytest.mark.django_db

DDE = "(cmd|' /C calc'!A0)"
# Where each hostile text goes: KPI values the importer reads as a number with a note,
# texts for the rest.
HOSTILE = {
    "実績": f"-5 {DDE}",
    "前年度実績": f"+5 {DDE}",
    "目標": f"-5以上 {DDE}",
    "全国平均": "-2 (A1:B2 C1)",
    "備考": "\t=1+2",
    "結果の理由": "\r=1+2",
    "施策": '=HYPERLINK("http://example.com")',
}
PLAIN = ["-5", "-5.25", "-1,200"]


@pytest.fixture
def hostile_kpi(db):
    plan = BranchPlanFactory(fiscal_year__start_year=2023)
    measure = factories.MeasureFactory(
        branch=plan.branch, fiscal_year=plan.fiscal_year, title=HOSTILE["施策"]
    )
    kpi = factories.KpiFactory(
        measure=measure,
        indicator__unit="",
        target_text=HOSTILE["目標"],
        actual_text=HOSTILE["実績"],
        previous_actual_text=HOSTILE["前年度実績"],
        national_average_text=HOSTILE["全国平均"],
        note=HOSTILE["備考"],
        mark="△",
        mark_source="manual",
        mark_reason=HOSTILE["結果の理由"],
    )
    for month, text in zip((4, 5, 6, 7), [HOSTILE["実績"], *PLAIN], strict=True):
        factories.MonthlyValueFactory(kpi=kpi, month=month, text=text)
    return kpi


def csv_table(content: str) -> list[dict]:
    rows = list(csv.reader(io.StringIO(content.removeprefix("\ufeff"), newline="")))
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]


def xlsx_table(content: bytes, sheet: str) -> list[dict]:
    rows = list(openpyxl.load_workbook(io.BytesIO(content))[sheet].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]


def downloads(client, admin) -> dict[str, list[dict]]:
    client.force_login(admin)
    return {
        "csv": csv_table(client.get("/kpis/?export=csv").content.decode("utf-8")),
        "xlsx": xlsx_table(client.get("/kpis/?export=xlsx").content, "KPI"),
    }


def command_exports(tmp_path, command: str, sheet: str) -> dict[str, list[dict]]:
    call_command(command, "--format", "csv", "--output", tmp_path / "out.csv")
    call_command(command, "--format", "xlsx", "--output", tmp_path / "out.xlsx")
    return {
        "csv": csv_table((tmp_path / "out.csv").read_bytes().decode("utf-8")),
        "xlsx": xlsx_table((tmp_path / "out.xlsx").read_bytes(), sheet),
    }


def assert_neutralised(row: dict, format: str) -> None:
    for column, text in HOSTILE.items():
        if format == "xlsx":
            text = text.replace("\r", "\n")  # XML reads a carriage return as a line feed
        assert row[column] == "'" + text, column


def test_kpi_table_downloads_neutralise_numbers_with_a_note_tab_and_cr(client, admin, hostile_kpi):
    for format, rows in downloads(client, admin).items():
        (row,) = rows
        assert_neutralised(row, format)


def test_export_commands_neutralise_them(tmp_path, hostile_kpi):
    for format, rows in command_exports(tmp_path, "export_kpis", "KPI").items():
        (row,) = rows
        assert_neutralised(row, format)
    for rows in command_exports(tmp_path, "export_monthly", "月次").values():
        (row,) = rows
        assert row["4月"] == f"'-5 {DDE}"
        # plain numbers stay numbers a spreadsheet can add up
        assert [row["5月"], row["6月"], row["7月"]] == PLAIN


def test_plain_numbers_are_written_as_they_are(client, admin):
    measure = factories.MeasureFactory(fiscal_year__start_year=2023)
    for text in PLAIN:
        factories.KpiFactory(measure=measure, indicator__unit="", actual_text=text)
    for rows in downloads(client, admin).values():
        assert sorted(row["実績"] for row in rows) == sorted(PLAIN)


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_neutralised_cells_reimport_without_a_change(tmp_path, hostile_kpi, format):
    if format == "xlsx":
        # xlsx cannot carry a carriage return in any cell (XML reads it as a line feed)
        Kpi.objects.update(mark_reason="\t@SUM(A1)")
    before = database_state()
    for command, name in (("export_kpis", "kpis"), ("export_monthly", "monthly")):
        path = tmp_path / f"{name}.{format}"
        call_command(command, "--format", format, "--output", path)

        batch, analysis = pipeline.import_file(path.read_bytes(), path.name)

        assert [str(problem) for problem in analysis.problems] == []
        assert not analysis.plan.has_changes, analysis.plan.counts()
    assert database_state() == before
    assert MonthlyValue.objects.get(month=4).text == f"-5 {DDE}"
