"""Two more journeys in a real browser: a head-office admin imports the Saitama workbook
through upload → preview → confirm and sees the counts; a council member reads a published
branch page and downloads the KPI table as CSV and xlsx."""

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command

from kpis.models import Kpi

PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory
DEMO_WORKBOOK = Path(__file__).resolve().parents[2] / "imports/demo/saitama_2023_kpi.xlsx"

# Transactional, so that the live server's thread sees the rows the test writes.
pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_admin_imports_a_workbook_and_sees_the_counts(live_server, new_page, admin):
    page = new_page()
    log_in(page, live_server, admin.username)
    page.goto(f"{live_server.url}/imports/")
    page.set_input_files("input[type=file]", str(DEMO_WORKBOOK))
    page.get_by_role("button", name="内容を確認する").click()
    page.wait_for_selector("text=この内容で取り込む")
    assert page.locator("table.counts").count() == 1
    assert Kpi.objects.count() == 0  # nothing changes before the confirmation

    page.get_by_role("button", name="この内容で取り込む").click()
    page.wait_for_url("**/result/")
    assert page.locator("h1").inner_text().endswith("の結果")
    kpis = Kpi.objects.filter(branch__code="11", fiscal_year__start_year=2023).count()
    assert kpis > 0
    rows = {
        row.locator("th").inner_text(): row.locator("td").first.inner_text()
        for row in page.locator("table.counts tbody tr").all()
    }
    assert str(kpis) in rows.values()


def test_council_reads_a_published_branch_and_downloads_the_kpi_table(
    live_server, new_page, council
):
    call_command("load_demo", verbosity=0)
    page = new_page()
    log_in(page, live_server, council.username)

    response = page.goto(f"{live_server.url}/branches/11/2023/")
    assert response.status == 200
    assert "埼玉" in page.locator("h1").inner_text()
    first_indicator = (
        Kpi.objects.filter(branch__code="11", fiscal_year__start_year=2023)
        .order_by("order")
        .values_list("indicator__name", flat=True)
        .first()
    )
    assert page.locator(f"text={first_indicator}").count() >= 1

    page.goto(f"{live_server.url}/kpis/?branch=11&year=2023")
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSVでダウンロード").click()
    text = Path(csv_download.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    saitama = [row for row in rows[1:] if any("埼玉" in cell for cell in row)]
    assert saitama
    assert any(first_indicator in cell for row in saitama for cell in row)

    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Excel（xlsx）でダウンロード").click()
    workbook = openpyxl.load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    values = [cell for row in workbook.active.iter_rows(values_only=True) for cell in row]
    assert any(isinstance(value, str) and "埼玉" in value for value in values)
