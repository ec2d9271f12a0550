"""A stored number that does not fit the decimal columns (|x| ≥ 10¹⁴) takes no page down.

SQLite keeps such a number (PostgreSQL refuses it), and Django's SQLite converter raised
InvalidOperation on every read, so one bad KPI actual or monthly value made its pages
answer 500 for everyone; the history row kept it after a correction. Now the number reads
as None, the page shows the text, and `find_out_of_range_values` names the rows.
"""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kpis.models import Kpi, MonthlyValue
from tests import factories
from tests.factories_pages import BranchPlanFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="only SQLite stores a number beyond the column"
    ),
]

HUGE_ACTUAL = "100000000000000円"
HUGE_CELL = "１２３４５６７８９０１２３４５６７８９０"


def write_raw(table: str, pk_column: str, pk: int, text_column: str, text: str, **numbers):
    """Write a text and numbers straight into a row, past every check. Numbers go as text,
    as Django sends a Decimal; the column's numeric affinity stores them as numbers."""
    columns = ", ".join([f"{text_column} = %s", *(f"{name} = %s" for name in numbers)])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {columns} WHERE {pk_column} = %s",
            [text, *numbers.values(), pk],
        )


@pytest.fixture
def bad_rows():
    """埼玉 FY2023 (published): a KPI actual and a monthly value beyond the column, in the
    live rows and in their newest history rows."""
    BranchPlanFactory(branch=factories.branch("11"))
    indicator = factories.IndicatorFactory(name="医療費", slug="iryouhi", unit="円")
    kpi = factories.KpiFactory(indicator=indicator, target_text="8,000円以下", actual_text="1円")
    cell = factories.MonthlyValueFactory(kpi=kpi, month=4, text="1円")
    huge_kpi = {"actual_value": "100000000000000"}
    write_raw("kpis_kpi", "id", kpi.pk, "actual_text", HUGE_ACTUAL, **huge_kpi)
    history = Kpi.history.filter(id=kpi.pk).latest("history_id").history_id
    write_raw("kpis_historicalkpi", "history_id", history, "actual_text", HUGE_ACTUAL, **huge_kpi)
    huge_cell = {"value": "12345678901234567890"}
    write_raw("kpis_monthlyvalue", "id", cell.pk, "text", HUGE_CELL, **huge_cell)
    history = MonthlyValue.history.filter(id=cell.pk).latest("history_id").history_id
    write_raw("kpis_historicalmonthlyvalue", "history_id", history, "text", HUGE_CELL, **huge_cell)
    return kpi, cell


def test_every_page_answers_and_shows_the_text(client, admin, bad_rows):
    kpi, cell = bad_rows
    client.force_login(admin)
    pages = {
        "/branches/11/2023/": [HUGE_ACTUAL, "12345678901234567890"],
        "/kpis/?fiscal_year=2023": [HUGE_ACTUAL],
        "/kpis/?fiscal_year=2023&export=csv": [HUGE_ACTUAL],
        "/kpis/?fiscal_year=2023&export=xlsx": [],
        "/indicators/iryouhi/2023/": [HUGE_ACTUAL],
        "/entry/11/2023/": [HUGE_ACTUAL],
        f"/entry/11/2023/kpi/{kpi.pk}/": [HUGE_ACTUAL, "12345678901234567890"],
        f"/entry/11/2023/kpi/{kpi.pk}/4/": ["12345678901234567890"],
        "/entry/11/2023/history/": [HUGE_ACTUAL, "12345678901234567890"],
        f"/admin/kpis/kpi/{kpi.pk}/change/": [HUGE_ACTUAL],
        f"/admin/kpis/kpi/{kpi.pk}/history/": [],
        f"/admin/kpis/monthlyvalue/{cell.pk}/change/": [HUGE_CELL],
        f"/admin/kpis/monthlyvalue/{cell.pk}/history/": [],
    }
    for url, texts in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        content = response.content.decode("utf-8", errors="replace")
        for text in texts:
            assert text in content, (url, text)


def test_the_number_reads_as_unknown_and_ranks_last(bad_rows):
    kpi, cell = bad_rows
    kpi.refresh_from_db()
    cell.refresh_from_db()
    assert (kpi.actual_text, kpi.actual_value) == (HUGE_ACTUAL, None)
    assert (cell.text, cell.value) == (HUGE_CELL, None)
    assert Kpi.history.filter(id=kpi.pk).latest("history_id").actual_value is None


def test_command_names_table_row_field_and_text(bad_rows):
    kpi, cell = bad_rows
    out = io.StringIO()
    with pytest.raises(CommandError) as found:
        call_command("find_out_of_range_values", stdout=out)
    assert found.value.returncode == 1
    assert "範囲外の値が4件あります" in str(found.value)
    report = out.getvalue().splitlines()
    assert len(report) == 4
    kpi_line, kpi_history, cell_line, cell_history = report
    assert kpi_line.startswith(f"kpis_kpi（KPI）id={kpi.pk} 項目「実績値」(actual_value)")
    assert f"入力値「{HUGE_ACTUAL}」" in kpi_line
    assert kpi_history.startswith("kpis_historicalkpi（KPIの変更履歴）history_id=")
    assert f"KPI id={kpi.pk}" in kpi_history
    assert cell_line.startswith(f"kpis_monthlyvalue（月次実績）id={cell.pk} 項目「値」(value)")
    assert f"入力値「{HUGE_CELL}」" in cell_line
    assert cell_history.startswith("kpis_historicalmonthlyvalue（月次実績の変更履歴）")


def test_command_is_quiet_and_succeeds_on_clean_data(db):
    factories.KpiFactory(actual_text="99999999999999円")  # the largest that fits
    out = io.StringIO()
    call_command("find_out_of_range_values", stdout=out)
    assert out.getvalue().strip() == "範囲外の値はありません。"
