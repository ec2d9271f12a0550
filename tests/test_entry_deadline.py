"""The monthly entry deadline (FiscalYear.entry_deadline_day): month M's cells are open to
branch staff until day D of month M+1 (inclusive); after that staff cannot change them,
a branch manager corrects them with a reason (kept in the audit trail), admins freely."""

from datetime import date

import pytest

from kpis.entry import services
from kpis.models import MonthlyValue
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db


@pytest.fixture
def rate(db):
    fe.fiscal_year(2023, entry_deadline_day=10)
    return fe.kpi(name="特定健診実施率", unit="%")


def test_deadline_is_the_day_of_the_following_month(rate):
    year = rate.fiscal_year
    assert year.entry_deadline(4) == date(2023, 5, 10)
    assert year.entry_deadline(12) == date(2024, 1, 10)
    assert year.entry_deadline(3) == date(2024, 4, 10)
    year.entry_deadline_day = None
    assert year.entry_deadline(4) is None


@pytest.mark.parametrize(
    ("today", "staff", "manager"),
    [
        (date(2023, 5, 10), "editable", "editable"),
        (date(2023, 5, 11), "locked", "needs_reason"),
    ],
)
def test_month_rule_on_and_after_the_deadline(
    rate, staff_11, manager_11, admin, today, staff, manager
):
    def rule(user):
        return services.entry_scope(user, rate.branch, rate.fiscal_year, None).month_rule(4, today)

    assert rule(staff_11) == staff
    assert rule(manager_11) == manager
    assert rule(admin) == "editable"


def test_staff_cannot_change_a_month_past_its_deadline(client, rate, staff_11):
    client.force_login(staff_11)
    response = client.post(fe.grid_url(), fe.grid_data([rate], {(rate, 4): "90%"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "特定健診実施率 4月: 入力締切（5月10日）を過ぎています。" in html
    assert not MonthlyValue.objects.exists()
    assert "readonly" in client.get(fe.grid_url()).content.decode()


def test_staff_enters_before_the_deadline(rate, staff_11):
    scope = services.entry_scope(staff_11, rate.branch, rate.fiscal_year, None)
    edit = services.CellEdit(rate, 4, "90%", 0)
    services.save_cells(scope, [edit], today=date(2023, 5, 10))
    assert MonthlyValue.objects.get(kpi=rate, month=4).text == "90%"


def test_manager_corrects_past_the_deadline_only_with_a_reason(client, rate, manager_11):
    fe.value(rate, 4, "90%")
    client.force_login(manager_11)
    refused = client.post(fe.grid_url(), fe.grid_data([rate], {(rate, 4): "91%"}))
    assert "入力締切（5月10日）後の修正には修正理由が必要です。" in refused.content.decode()
    assert MonthlyValue.objects.get(kpi=rate, month=4).text == "90%"

    data = fe.grid_data([rate], {(rate, 4): "91%"}, reason="健診機関の報告遅れを反映")
    assert client.post(fe.grid_url(), data).status_code == 302
    stored = MonthlyValue.objects.get(kpi=rate, month=4)
    assert stored.text == "91%"
    assert stored.history.latest().history_change_reason == "画面入力: 健診機関の報告遅れを反映"


def test_admin_is_not_bound_by_the_deadline(client, rate, admin):
    client.force_login(admin)
    assert client.post(fe.grid_url(), fe.grid_data([rate], {(rate, 4): "90%"})).status_code == 302


def test_grid_explains_the_rule(client, rate, manager_11):
    client.force_login(manager_11)
    html = client.get(fe.grid_url()).content.decode()
    assert "各月の値は翌月10日まで担当者が入力できます" in html
    assert "修正理由（入力締切後の修正に必要）" in html
