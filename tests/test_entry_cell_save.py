"""The grid saves one cell when the person leaves it (POST /entry/<code>/<year>/cells/,
JSON): through services.save_cells with the version the page showed, so the grid's rules
hold — conflicts keep the other person's value, warnings wait for a confirmation, a
submitted plan refuses as a state, other branches are refused."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kpis.entry import services
from kpis.models import MonthlyValue
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db

URL = "/entry/11/2023/cells/"


@pytest.fixture
def rate(db):
    return fe.kpi(name="特定健診実施率", unit="%", aggregation="point")


def post(client, user, kpi, text, version=0, month=4, **extra):
    client.force_login(user)
    data = {"kpi": kpi.pk, "month": month, "text": text, "version": version, **extra}
    return client.post(URL, data)


def stored(kpi, month=4):
    return MonthlyValue.objects.filter(kpi=kpi, month=month).first()


def test_a_cell_is_saved_with_its_new_version_and_the_rows_figure(client, staff_11, rate):
    response = post(client, staff_11, rate, "９６．５％")
    assert response.status_code == 200
    answer = response.json()
    assert answer["state"] == "saved"
    assert (answer["text"], answer["version"], answer["ytd"]) == ("９６．５％", 1, "96.5%")
    again = post(client, staff_11, rate, "97%", version=answer["version"])
    assert again.json()["version"] == 2
    assert stored(rate).text == "97%"


def test_someone_elses_change_is_a_conflict_that_keeps_their_value(
    client, staff_11, manager_11, rate
):
    theirs = fe.value(rate, 4, "90%")
    theirs.updated_by = manager_11
    theirs.save()
    response = post(client, staff_11, rate, "80%", version=0)
    assert response.status_code == 409
    answer = response.json()
    assert answer["state"] == "conflict"
    assert (answer["text"], answer["version"]) == ("90%", 1)
    assert "「90%」" in answer["message"] and "manager11" in answer["message"]
    assert "「80%」は保存していません" in answer["message"]
    assert stored(rate).text == "90%"
    # Overwriting deliberately: the version now shown.
    assert post(client, staff_11, rate, "80%", version=1).json()["state"] == "saved"
    assert stored(rate).text == "80%"


def test_a_warning_is_saved_only_once_confirmed(client, staff_11, rate):
    answer = post(client, staff_11, rate, "△2").json()
    assert answer["state"] == "warning"
    assert "率が0%未満です" in answer["message"]
    assert stored(rate) is None
    confirmed = post(client, staff_11, rate, "△2", confirm_warnings="on").json()
    assert confirmed["state"] == "saved"
    assert stored(rate).text == "△2"


def test_an_unreadable_value_is_an_error_and_saves_nothing(client, staff_11, rate):
    response = post(client, staff_11, rate, "たくさん")
    assert response.status_code == 422
    assert response.json()["state"] == "error"
    assert "数値として読めません" in response.json()["message"]
    assert stored(rate) is None


def test_past_the_deadline_staff_are_refused_and_a_manager_needs_a_reason(
    client, staff_11, manager_11, rate
):
    fe.fiscal_year(2023, entry_deadline_day=10)  # 2023's deadlines are long past
    refused = post(client, staff_11, rate, "90%").json()
    assert (
        refused["state"] == "error"
        and "修正は支部の管理者に依頼してください" in (refused["message"])
    )
    unexplained = post(client, manager_11, rate, "90%").json()
    assert unexplained["state"] == "error" and "修正理由が必要です" in unexplained["message"]
    assert post(client, manager_11, rate, "90%", reason="集計漏れ").json()["state"] == "saved"
    assert stored(rate).text == "90%"


def test_a_submitted_plan_refuses_as_a_state_not_as_a_mistake(client, staff_11, manager_11, rate):
    scope = services.entry_scope(manager_11, rate.branch, rate.fiscal_year, None)
    services.transition(scope, "submit")
    response = post(client, staff_11, rate, "90%")
    assert response.status_code == 403
    answer = response.json()
    assert answer["state"] == "locked"
    assert answer["message"].startswith("提出済みのため変更できません。")
    assert "次の点" not in answer["message"]
    assert stored(rate) is None


def test_another_branch_is_refused(client, staff_12, rate):
    response = post(client, staff_12, rate, "90%")
    assert response.status_code == 403
    assert response.json()["state"] == "forbidden"
    assert stored(rate) is None


def test_a_kpi_of_another_branch_is_not_found(client, staff_11, rate):
    other = fe.kpi(code="12", name="別支部の指標")
    response = post(client, staff_11, other, "90%")
    assert response.status_code == 404
    assert response.json()["state"] == "error"
    assert stored(other) is None


def test_the_page_csrf_token_is_required(staff_11, rate):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_11)
    data = {"kpi": rate.pk, "month": 4, "text": "90%", "version": 0}
    assert browser.post(URL, data).status_code == 403
    browser.get(fe.grid_url())
    token = browser.cookies["csrftoken"].value
    answer = browser.post(URL, data, headers={"X-CSRFToken": token})
    assert answer.json()["state"] == "saved"


def saving_asks(client, user, kpis) -> int:
    for kpi in kpis:
        fe.value(kpi, 5, "90%")
    client.force_login(user)
    data = {"kpi": kpis[-1].pk, "month": 5, "text": "91%", "version": 1}
    with CaptureQueriesContext(connection) as queries:
        assert client.post(URL, data).json()["state"] == "saved"
    return len(queries)


def test_query_count_is_constant(client, staff_11):
    """However many KPIs and values the branch has. (Compared rather than pinned: the
    write path's own queries — history, evaluation, outlook — are not this endpoint's.)"""
    one = saving_asks(client, staff_11, [fe.kpi(name="指標A")])
    six = saving_asks(client, staff_11, [fe.kpi(name=f"指標B{n}") for n in range(6)])
    assert one == six
