"""The management commands: thin wrappers over the same service functions as the pages."""

import io

import pytest
from django.core.management import CommandError, call_command

from imports.models import ImportBatch
from kpis.models import Kpi, MonthlyValue
from tests.factories_imports import (
    MONTHLY_HEADER,
    database_state,
    demo,
    kpi_row,
    load,
    monthly_row,
    xlsx,
)

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def workbook(tmp_path):
    path = tmp_path / "kpi.xlsx"
    path.write_bytes(xlsx([kpi_row()]))
    return path


def test_import_workbook_prints_the_summary_and_records_a_batch(workbook, admin):
    out, _ = run("import_workbook", str(workbook), "--user", admin.username)

    assert "KPI: 作成 1 / 更新 0" in out
    assert "取り込み #" in out
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.created_by, batch.kind) == ("committed", admin, "kpi")
    assert Kpi.objects.count() == 1


def test_dry_run_writes_nothing(workbook):
    before = database_state()

    out, _ = run("import_workbook", str(workbook), "--dry-run")

    assert "KPI: 作成 1" in out and "書き込みなし" in out
    assert database_state() == before
    assert not ImportBatch.objects.exists()


def test_errors_exit_non_zero_with_nothing_written(tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx([kpi_row(**{"目標": "96.5%以上以上"})]))
    before = database_state()
    err = io.StringIO()

    with pytest.raises(CommandError, match="エラーが 1 件あるため、何も取り込んでいません"):
        call_command("import_workbook", str(path), stderr=err)

    assert "KPI!L2: 目標「96.5%以上以上」を読めません" in err.getvalue()
    assert database_state() == before


def test_missing_file_and_unknown_user(tmp_path, workbook):
    with pytest.raises(CommandError, match="ファイルが見つかりません"):
        call_command("import_workbook", str(tmp_path / "none.xlsx"))
    with pytest.raises(CommandError, match="利用者「nobody」が見つかりません"):
        call_command("import_workbook", str(workbook), "--user", "nobody")


def test_the_kind_is_detected_from_the_header(tmp_path, workbook):
    run("import_workbook", str(workbook))
    path = tmp_path / "monthly.csv"
    path.write_bytes(
        xlsx([monthly_row(months=["95%"])], header=MONTHLY_HEADER, title="月次")
    )  # an xlsx, whatever the name says

    run("import_workbook", str(path))

    assert ImportBatch.objects.latest("pk").kind == "monthly"
    assert MonthlyValue.objects.count() == 1


def test_export_kpis_filters_and_reimports(tmp_path):
    load(demo("saitama_2023_kpi.xlsx"))
    load(demo("chiba_2024_kpi.xlsx"))
    path = tmp_path / "saitama.csv"

    run("export_kpis", "--branch", "11", "--year", "令和5年度", "--output", str(path))

    text = path.read_text(encoding="utf-8-sig")
    lines = text.strip().split("\n")
    assert len(lines) == 1 + 84 + 19  # header, activities, KPIs
    assert "千葉" not in text
    out, _ = run("import_workbook", str(path), "--dry-run")
    assert "作成 0 / 更新 0" in out and "作成 1" not in out


def test_export_xlsx_needs_an_output(tmp_path):
    with pytest.raises(CommandError, match="--output"):
        call_command("export_kpis", "--format", "xlsx")
    run("export_kpis", "--format", "xlsx", "--output", str(tmp_path / "all.xlsx"))
    assert (tmp_path / "all.xlsx").read_bytes().startswith(b"PK")


def test_export_monthly_to_standard_output(capsys):
    load(demo("gunma_2023_kpi.xlsx"))
    load(demo("gunma_2023_monthly.xlsx"))

    out, _ = run("export_monthly", "--branch", "10", "--year", "2023")

    lines = out.lstrip("\ufeff").strip().splitlines()
    assert (
        lines[0]
        == "支部コード,年度,KPI指標,系列,"
        + ",".join(f"{m}月" for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3))
        + ",年計,年計の種類"
    )
    assert len(lines) == 1 + 13
    assert any(line.startswith("10,2023,サービススタンダード達成率,単月,100%") for line in lines)


def test_unreadable_year_is_refused():
    with pytest.raises(CommandError, match="年度「来年」を読めません"):
        call_command("export_kpis", "--year", "来年")
