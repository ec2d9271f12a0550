"""Downloads of the KPI table: the filtered rows of every page as CSV and xlsx, Excel-safe,
in the KPI workbook format (kpis/exports.py) so that a download re-imports."""

import csv
import io

import openpyxl
import pytest

from kpis.exports import KPI_HEADER
from tests import factories
from tests.factories_pages import plan_year

pytestmark = pytest.mark.django_db


def csv_rows(response):
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 Japanese only with a BOM
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == KPI_HEADER
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_csv_holds_the_filtered_rows_of_every_page(client, admin):
    for year in range(2020, 2024):
        plan_year("11", year, measures=4, kpis=4)  # 64 rows: two pages on screen
    plan_year("12", 2023, measures=1, kpis=1)
    client.force_login(admin)
    response = client.get("/kpis/?branch=11&page=2&export=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="kpi-')
    rows = csv_rows(response)
    assert len(rows) == 64
    assert {row["支部"] for row in rows} == {"埼玉支部"}
    assert len(csv_rows(client.get("/kpis/?fiscal_year=2023&mark=△&export=csv"))) == 4


def test_csv_values_are_the_texts_as_written(client, admin):
    plan_year("11", 2023, measures=1, kpis=2)
    client.force_login(admin)
    rows = csv_rows(client.get("/kpis/?export=csv"))
    first, second = rows
    assert (first["KPI指標"], first["目標"], first["実績"]) == ("共通指標0", "96.5%以上", "97.1%")
    assert (first["達成"], first["結果"]) == ("達成", "○")
    assert second["実績"] == "0.83% (R6.2現在)"


def test_xlsx_download(client, admin):
    plan_year("11", 2023, measures=1, kpis=2)
    client.force_login(admin)
    response = client.get("/kpis/?export=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["KPI"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == KPI_HEADER
    assert len(rows) == 3


def test_formula_like_cells_are_neutralised(client, admin):
    measure = factories.MeasureFactory(fiscal_year__start_year=2023, title="=cmd|' /C calc'!A0")
    factories.KpiFactory(
        measure=measure, target_text="=1+2", actual_text="@SUM(A1)", previous_actual_text="-5件"
    )
    client.force_login(admin)
    (row,) = csv_rows(client.get("/kpis/?export=csv"))
    assert row["施策"] == "'=cmd|' /C calc'!A0"
    assert row["目標"] == "'=1+2"
    assert row["実績"] == "'@SUM(A1)"
    assert row["前年度実績"] == "'-5件"  # only a plain number (-5) stays as written

    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/kpis/?export=xlsx").content))
    cells = list(workbook["KPI"].iter_rows(min_row=2, max_row=2))[0]
    assert "'=1+2" in [cell.value for cell in cells]
    assert all(cell.data_type != "f" for cell in cells)


def test_unknown_export_format_shows_the_page(client, admin):
    plan_year("11", 2023, measures=1, kpis=1)
    client.force_login(admin)
    response = client.get("/kpis/?export=pdf")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
