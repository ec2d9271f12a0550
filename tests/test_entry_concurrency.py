"""No lost updates: when two people edit the same cell, the second save is refused with the
first person's value, who saved it and when, and nothing is overwritten."""

import pytest
from django.test import Client

from kpis.entry import services
from kpis.models import MonthlyValue
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db


@pytest.fixture
def rate(db):
    return fe.kpi(name="特定健診実施率", unit="%")


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_second_save_of_the_same_cell_is_refused_and_shows_the_first_value(
    rate, staff_11, manager_11
):
    fe.value(rate, 4, "90%")
    form_of_staff = fe.grid_data([rate], {(rate, 4): "91%"})
    form_of_manager = fe.grid_data([rate], {(rate, 4): "95%"})
    manager_11.last_name = "佐藤"
    manager_11.save()

    assert browser(manager_11).post(fe.grid_url(), form_of_manager).status_code == 302
    response = browser(staff_11).post(fe.grid_url(), form_of_staff)

    html = response.content.decode()
    assert response.status_code == 409
    assert "特定健診実施率 4月: ほかの人が先に変更しました。現在の値は「95%」（佐藤、" in html
    assert "あなたの入力「91%」は保存していません。" in html
    assert 'value="91%"' in html
    stored = MonthlyValue.objects.get(kpi=rate, month=4)
    assert (stored.text, stored.version, stored.updated_by) == ("95%", 2, manager_11)


def test_after_seeing_the_conflict_saving_again_replaces_the_value_deliberately(
    rate, staff_11, manager_11
):
    fe.value(rate, 4, "90%")
    stale = fe.grid_data([rate], {(rate, 4): "91%"})
    browser(manager_11).post(fe.grid_url(), fe.grid_data([rate], {(rate, 4): "95%"}))
    staff = browser(staff_11)
    refused = staff.post(fe.grid_url(), stale)
    assert f'name="v{rate.pk}" value="2,' in refused.content.decode()
    again = {**stale, f"v{rate.pk}": "2," + ",".join(["0"] * 11)}
    assert staff.post(fe.grid_url(), again).status_code == 302
    assert MonthlyValue.objects.get(kpi=rate, month=4).text == "91%"


def test_two_people_creating_the_same_new_cell(rate, staff_11, manager_11):
    empty_form = fe.grid_data([rate], {(rate, 6): "80%"})
    browser(manager_11).post(fe.grid_url(), fe.grid_data([rate], {(rate, 6): "82%"}))
    response = browser(staff_11).post(fe.grid_url(), empty_form)
    assert response.status_code == 409
    assert "現在の値は「82%」" in response.content.decode()
    assert MonthlyValue.objects.get(kpi=rate, month=6).text == "82%"


def test_conflict_in_one_cell_saves_no_other_cell(rate, staff_11, manager_11):
    fe.value(rate, 4, "90%")
    stale = fe.grid_data([rate], {(rate, 4): "91%", (rate, 5): "88%"})
    browser(manager_11).post(fe.grid_url(), fe.grid_data([rate], {(rate, 4): "95%"}))
    browser(staff_11).post(fe.grid_url(), stale)
    assert not MonthlyValue.objects.filter(kpi=rate, month=5).exists()


def test_a_cell_the_person_did_not_touch_is_not_a_conflict(rate, staff_11, manager_11):
    fe.value(rate, 4, "90%")
    stale = fe.grid_data([rate], {(rate, 5): "88%"})
    browser(manager_11).post(fe.grid_url(), fe.grid_data([rate], {(rate, 4): "95%"}))
    assert browser(staff_11).post(fe.grid_url(), stale).status_code == 302
    assert MonthlyValue.objects.get(kpi=rate, month=4).text == "95%"
    assert MonthlyValue.objects.get(kpi=rate, month=5).text == "88%"


def test_write_that_lost_the_race_after_the_checks_is_refused(
    rate, staff_11, manager_11, monkeypatch
):
    """The conditional UPDATE … WHERE version = seen catches a save that lands between the
    checks and the write (here: inside the write transaction, before the UPDATE)."""
    stored = fe.value(rate, 4, "90%")
    recheck = services._recheck_lock

    def someone_saves_first(scope):
        MonthlyValue.objects.filter(pk=stored.pk).update(
            text="99%", version=2, updated_by=manager_11
        )
        recheck(scope)

    monkeypatch.setattr(services, "_recheck_lock", someone_saves_first)
    scope = services.entry_scope(staff_11, rate.branch, rate.fiscal_year, None)
    edits = [
        services.CellEdit(rate, 4, "91%", seen_version=1),
        services.CellEdit(rate, 5, "70%", seen_version=0),
    ]
    with pytest.raises(services.SaveRefused) as refused:
        services.save_cells(scope, edits)
    assert refused.value.has_conflict
    assert "現在の値は「99%」" in refused.value.problems[0].message
    # The simulated other save ran inside the refused transaction, so it rolled back too;
    # what matters is that "91%" was never written and 5月 was not created.
    assert MonthlyValue.objects.get(pk=stored.pk).text == "90%"
    assert not MonthlyValue.objects.filter(kpi=rate, month=5).exists()


def test_single_cell_page_refuses_a_stale_version(client, rate, staff_11, manager_11):
    fe.value(rate, 4, "90%")
    browser(manager_11).post(fe.grid_url(), fe.grid_data([rate], {(rate, 4): "95%"}))
    client.force_login(staff_11)
    url = f"/entry/11/2023/kpi/{rate.pk}/4/"
    response = client.post(url, {"text": "91%", "version": 1, "reason": ""})
    assert response.status_code == 409
    assert "現在の値は「95%」" in response.content.decode()
    assert MonthlyValue.objects.get(kpi=rate, month=4).text == "95%"
