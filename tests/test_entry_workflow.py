"""Review workflow per branch × year (draft → submitted → published) and the locks it puts
on entry: a submitted year is read-only for the branch until withdrawn or returned, a
published year until head office reopens it, a closed year for everyone but admins."""

import pytest
from django.core.exceptions import PermissionDenied

from kpis.entry import services
from kpis.models import BranchPlan, MonthlyValue
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db


@pytest.fixture
def rate(db):
    return fe.kpi(name="特定健診実施率", unit="%")


def plan_status():
    plan = BranchPlan.objects.filter(branch__code="11").first()
    return plan.status if plan else "draft"


def act(client, user, action, **data):
    client.force_login(user)
    return client.post(f"/entry/11/2023/workflow/{action}/", data)


def save(client, user, rate, text):
    client.force_login(user)
    return client.post(fe.grid_url(), fe.grid_data([rate], {(rate, 4): text}))


def test_manager_submits_and_admin_publishes(client, rate, manager_11, admin):
    act(client, manager_11, "submit")
    plan = BranchPlan.objects.get(branch__code="11")
    assert (plan.status, plan.submitted_by) == ("submitted", manager_11)
    act(client, admin, "publish")
    plan.refresh_from_db()
    assert (plan.status, plan.published_by) == ("published", admin)
    assert [h.history_change_reason for h in plan.history.order_by("history_id")] == [
        "提出",
        "公表",
    ]


def test_submitted_year_is_read_only_for_staff_and_manager(client, rate, staff_11, manager_11):
    act(client, manager_11, "submit")
    for user in (staff_11, manager_11):
        response = save(client, user, rate, "90%")
        assert response.status_code == 403
        assert "提出済みのため変更できません" in response.content.decode()
        assert 'value="90%"' in response.content.decode()
    assert not MonthlyValue.objects.exists()
    page = client.get(fe.grid_url()).content.decode()
    assert " readonly" in page and "まとめて保存" not in page


def test_manager_withdraws_and_staff_can_edit_again(client, rate, staff_11, manager_11):
    act(client, manager_11, "submit")
    act(client, manager_11, "withdraw")
    assert plan_status() == "draft"
    assert save(client, staff_11, rate, "90%").status_code == 302


def test_admin_returns_a_submission_with_a_reason(client, rate, manager_11, admin):
    act(client, manager_11, "submit")
    act(client, admin, "return", reason="4月の値を確認してください")
    plan = BranchPlan.objects.get(branch__code="11")
    assert plan.status == "draft" and plan.submitted_by is None
    assert plan.history.latest().history_change_reason == "差し戻し: 4月の値を確認してください"


def test_published_year_is_read_only_until_admin_reopens(client, rate, staff_11, manager_11, admin):
    act(client, manager_11, "submit")
    act(client, admin, "publish")
    response = save(client, manager_11, rate, "90%")
    assert response.status_code == 403
    assert "公表済みのため変更できません" in response.content.decode()
    act(client, admin, "reopen", reason="実績の訂正のため")
    assert plan_status() == "draft"
    assert save(client, staff_11, rate, "90%").status_code == 302


def test_admin_edits_a_published_year(client, rate, manager_11, admin):
    act(client, manager_11, "submit")
    act(client, admin, "publish")
    assert save(client, admin, rate, "90%").status_code == 302


def test_step_from_the_wrong_state_is_a_message_and_changes_nothing(client, rate, admin):
    response = act(client, admin, "publish")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "埼玉支部は現在「作成中」のため、公表はできません。" in page
    assert plan_status() == "draft"


def test_roles_of_the_steps(rate, staff_11, manager_11, admin):
    def scope(user):
        return services.entry_scope(user, rate.branch, rate.fiscal_year, None)

    with pytest.raises(PermissionDenied):
        services.transition(scope(staff_11), "submit")
    with pytest.raises(PermissionDenied):
        services.transition(scope(admin), "submit")
    with pytest.raises(PermissionDenied):
        services.transition(scope(manager_11), "publish")
    services.transition(scope(manager_11), "submit")


def test_closed_year_is_read_only_for_branches_but_not_for_admins(
    client, rate, staff_11, manager_11, admin
):
    fe.fiscal_year(2023, status="closed")
    for user in (staff_11, manager_11):
        response = save(client, user, rate, "90%")
        assert response.status_code == 403
        assert "この年度は締め切られています" in response.content.decode()
    assert act(client, manager_11, "submit").status_code == 403
    assert save(client, admin, rate, "90%").status_code == 302


def test_year_not_yet_open_is_read_only_for_branches(client, rate, staff_11):
    fe.fiscal_year(2023, status="planning")
    response = save(client, staff_11, rate, "90%")
    assert response.status_code == 403
    assert "まだ入力を受け付けていません" in response.content.decode()


def test_submission_between_opening_the_form_and_saving_is_caught(
    client, rate, staff_11, manager_11
):
    """The plan is read again, locked, inside the write transaction."""
    scope = services.entry_scope(staff_11, rate.branch, rate.fiscal_year, None)
    services.transition(
        services.entry_scope(manager_11, rate.branch, rate.fiscal_year, None), "submit"
    )
    with pytest.raises(services.EntryLocked):
        services.save_cells(scope, [services.CellEdit(rate, 4, "90%", 0)])
    assert not MonthlyValue.objects.exists()


def test_grid_shows_only_the_steps_the_user_may_take(client, rate, staff_11, manager_11, admin):
    client.force_login(staff_11)
    assert "workflow/submit" not in client.get(fe.grid_url()).content.decode()
    client.force_login(manager_11)
    assert "workflow/submit" in client.get(fe.grid_url()).content.decode()
    act(client, manager_11, "submit")
    client.force_login(admin)
    page = client.get(fe.grid_url()).content.decode()
    assert "workflow/publish" in page and "workflow/return" in page
    assert "workflow/submit" not in page
