"""One value check for every channel: the grid, the import preview and the admin give the
same text the same verdict. Errors refuse (a number the database cannot hold, naming what
fits); warnings (a rate above 100 % or below 0 %, a negative running total) are saved once
the person confirms, and the confirmation is in the history; a negative single-month count
is a net change and is simply saved."""

import pytest
from django.urls import reverse

from imports.models import ImportBatch
from kpis.models import Kpi, MonthlyValue
from tests import factories_admin as fa
from tests import factories_entry as fe
from tests.factories_imports import MONTHLY_HEADER, kpi_row, load, monthly_row, xlsx

pytestmark = pytest.mark.django_db

TOO_LARGE = "整数部分は14桁まで入力できます"


@pytest.fixture
def rate(db):
    return fe.kpi(name="特定健診実施率", unit="%", aggregation="point")


@pytest.fixture
def count(db):
    return fe.kpi(name="健康宣言事業所数", unit="事業所", aggregation="sum")


def upload(client, content, name="m.xlsx"):
    client.post(reverse("imports:upload"), {"file": _file(content, name)})
    return ImportBatch.objects.latest("pk")


def _file(content, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def monthly_file(indicator, months):
    rows = [monthly_row(indicator=indicator, months=months)]
    return xlsx(rows, header=MONTHLY_HEADER, title="月次")


@pytest.mark.parametrize("text", ["１２３４５６７８９０１２３４５６７８９０", "100000000000000%"])
def test_a_number_that_does_not_fit_is_refused_by_grid_import_and_admin(
    client, staff_11, admin, rate, text
):
    client.force_login(staff_11)
    response = client.post(fe.grid_url(), fe.grid_data([rate], {(rate, 4): text}))
    assert TOO_LARGE in response.content.decode()

    client.force_login(admin)
    batch = upload(client, monthly_file(rate.indicator.name, [text]))
    assert batch.status == ImportBatch.Status.REJECTED
    assert TOO_LARGE in batch.errors[0]["message"]

    response = client.post(fa.kpi_url(rate), fa.kpi_change(rate, actual_text=text))
    assert TOO_LARGE in response.content.decode()
    assert not MonthlyValue.objects.exists()
    rate.refresh_from_db()
    assert rate.actual_text == ""


def test_a_kpi_actual_that_does_not_fit_is_refused_by_the_import(admin):
    fe.fiscal_year(2023)
    batch, analysis = _import_kpis(actual="100000000000000円", unit="円")
    assert batch is None
    assert any(TOO_LARGE in str(p) for p in analysis.problems)
    assert not Kpi.objects.exists()


def _import_kpis(actual, unit):
    from imports import pipeline

    content = xlsx([kpi_row(**{"単位": unit, "目標": f"1{unit}以上", "実績": actual})])
    return pipeline.import_file(content, "kpi.xlsx")


def test_a_negative_rate_warns_in_the_grid_and_is_saved_once_confirmed(client, staff_11, rate):
    client.force_login(staff_11)
    data = fe.grid_data([rate], {(rate, 4): "△2"})
    response = client.post(fe.grid_url(), data)
    html = response.content.decode()
    assert "率が0%未満です" in html and "警告を確認して保存する" in html
    assert not MonthlyValue.objects.exists()

    response = client.post(fe.grid_url(), data | {"confirm_warnings": "on"})

    assert response.status_code == 302
    value = MonthlyValue.objects.get()
    assert value.text == "△2"
    assert "警告を確認: 率が0%未満です" in value.history.latest().history_change_reason


def test_a_negative_rate_warns_in_the_import_and_is_written_once_confirmed(client, admin, rate):
    client.force_login(admin)
    batch = upload(client, monthly_file(rate.indicator.name, ["△2"]))
    page = client.get(reverse("imports:preview", args=[batch.pk])).content.decode()
    assert "率が0%未満です" in page and "警告を確認した" in page

    client.post(reverse("imports:confirm", args=[batch.pk]))
    assert not MonthlyValue.objects.exists()

    client.post(reverse("imports:confirm", args=[batch.pk]), {"confirm_warnings": "1"})
    value = MonthlyValue.objects.get()
    assert value.text == "△2%"
    assert "警告を確認: 率が0%未満です" in value.history.latest().history_change_reason


def test_a_rate_above_100_warns_in_the_admin_and_is_saved_once_confirmed(client, admin, rate):
    client.force_login(admin)
    response = client.post(fa.kpi_url(rate), fa.kpi_change(rate, actual_text="101%"))
    assert "率が100%を超えています" in response.content.decode()
    rate.refresh_from_db()
    assert rate.actual_text == ""

    change = fa.kpi_change(rate, actual_text="101%", confirm_warnings="on")
    assert client.post(fa.kpi_url(rate), change).status_code == 302
    rate.refresh_from_db()
    assert rate.actual_text == "101%"
    assert "警告を確認" in rate.history.latest().history_change_reason


def test_a_negative_single_month_count_is_saved_by_grid_and_import(client, staff_11, count):
    client.force_login(staff_11)
    client.post(fe.grid_url(), fe.grid_data([count], {(count, 4): "△3事業所"}))
    load(monthly_file(count.indicator.name, ["", "△3"]), name="m.xlsx")

    assert {v.month: v.text for v in MonthlyValue.objects.all()} == {
        4: "△3事業所",
        5: "△3事業所",
    }


def test_a_negative_running_total_warns_in_grid_and_import(client, staff_11, admin):
    total = fe.kpi(name="加入事業所数（累計）", unit="事業所", aggregation="cumulative")
    client.force_login(staff_11)
    response = client.post(fe.grid_url(), fe.grid_data([total], {(total, 4): "△3"}))
    assert "累計に負の値「△3」が入力されています" in response.content.decode()

    client.force_login(admin)
    rows = [monthly_row(indicator=total.indicator.name, series="累計", months=["△3"])]
    batch = upload(client, xlsx(rows, header=MONTHLY_HEADER, title="月次"))
    assert "累計に負の値" in batch.warnings[0]["message"]
    assert not MonthlyValue.objects.exists()


def test_an_annual_actual_with_a_warning_is_shown_and_set_once_confirmed(client, manager_11, rate):
    from kpis.entry import services

    fe.value(rate, 3, "101%")  # a warning the staff member confirmed
    client.force_login(manager_11)
    page = f"/entry/11/2023/kpi/{rate.pk}/"
    html = client.get(page).content.decode()
    assert "率が100%を超えています" in html and "警告を確認して設定する" in html

    client.post(page + "actual/", {"stamp": services.history_stamp(rate)})
    rate.refresh_from_db()
    assert rate.actual_text == ""

    stamp = services.history_stamp(rate)
    client.post(page + "actual/", {"stamp": stamp, "confirm_warnings": "on"})
    rate.refresh_from_db()
    assert rate.actual_text == "101%"
    assert "警告を確認" in rate.history.latest().history_change_reason
