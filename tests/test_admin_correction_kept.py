"""A head-office correction in the Django admin is never overwritten by a grid that was
opened before it: the admin raises the version like every writer, so the grid keeps the
correction for a cell it left untouched and shows a conflict for a cell it changed."""

import pytest

from kpis.models import MonthlyValue
from tests import factories_admin as fa
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db


@pytest.fixture
def rate(db):
    kpi = fe.kpi(name="特定健診実施率", unit="%", aggregation="point")
    fe.value(kpi, 4, "95.0%")
    return kpi


def test_grid_opened_before_the_correction_leaves_it_in_place(client, admin, staff_11, rate):
    stale_grid = fe.grid_data([rate], {(rate, 5): "96.0%"})  # staff opened the grid
    value = MonthlyValue.objects.get(month=4)

    client.force_login(admin)
    response = client.post(fa.value_url(value), fa.value_change(value, text="95.5%"))
    assert response.status_code == 302
    value.refresh_from_db()
    assert (value.text, value.version) == ("95.5%", 2)
    assert value.history.latest().history_change_reason == "管理画面"

    client.force_login(staff_11)
    assert client.post(fe.grid_url(), stale_grid).status_code == 302
    assert MonthlyValue.objects.get(month=4).text == "95.5%"
    assert MonthlyValue.objects.get(month=5).text == "96.0%"


def test_grid_that_changed_the_corrected_cell_gets_a_conflict(client, admin, staff_11, rate):
    stale_grid = fe.grid_data([rate], {(rate, 4): "94.0%"})
    value = MonthlyValue.objects.get(month=4)
    client.force_login(admin)
    client.post(fa.value_url(value), fa.value_change(value, text="95.5%"))

    client.force_login(staff_11)
    response = client.post(fe.grid_url(), stale_grid)

    assert response.status_code == 409
    assert "ほかの人が先に変更しました" in response.content.decode()
    assert MonthlyValue.objects.get(month=4).text == "95.5%"


def test_admin_page_opened_before_a_grid_save_is_refused(client, admin, staff_11, rate):
    value = MonthlyValue.objects.get(month=4)
    admin_form = fa.value_change(value, text="95.5%")
    client.force_login(staff_11)
    client.post(fe.grid_url(), fe.grid_data([rate], {(rate, 4): "94.0%"}))

    client.force_login(admin)
    response = client.post(fa.value_url(value), admin_form)

    assert response.status_code == 200
    assert "ほかの人が先に変更しました" in response.content.decode()
    assert MonthlyValue.objects.get(month=4).text == "94.0%"
