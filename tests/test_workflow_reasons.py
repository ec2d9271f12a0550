"""A return (差し戻し), a reopening (公表の取り消し) and the plan document's withdrawal need a
reason on every route — entry pages, the admin's actions, the service itself — and nothing
is written without one. The branch sees the reason of the last return or reopening at the
top of its entry pages and of its branch page until the next step; nobody else does."""

import pytest
from django.test import Client
from django.utils import timezone

from kpis.entry import services
from kpis.models import BranchPlan
from notices.models import Event
from tests import factories
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db

BRANCH_PAGE = "/branches/11/2023/"


@pytest.fixture
def submitted(client, manager_11):
    fe.kpi(name="特定健診実施率", unit="%")
    act(client, manager_11, "submit")
    return BranchPlan.objects.get(branch__code="11")


@pytest.fixture
def published(client, submitted, admin):
    act(client, admin, "publish")
    return submitted


def act(client, user, action, reason=""):
    client.force_login(user)
    return client.post(f"/entry/11/2023/workflow/{action}/", {"reason": reason}, follow=True)


def state(plan):
    plan.refresh_from_db()
    return plan.status, plan.history.count(), Event.objects.count()


@pytest.mark.parametrize("reason", ["", "  　 "])
def test_a_return_without_a_reason_is_refused_on_the_entry_page(client, admin, submitted, reason):
    before = state(submitted)

    response = act(client, admin, "return", reason)

    assert "差し戻しには理由が必要です。理由を入力してください。" in response.content.decode()
    assert state(submitted) == before
    assert submitted.status == "submitted"


def test_a_reopening_without_a_reason_is_refused_on_the_entry_page(client, admin, published):
    before = state(published)

    response = act(client, admin, "reopen")

    assert "公表の取り消しには理由が必要です。" in response.content.decode()
    assert state(published) == before
    assert published.status == "published"


@pytest.mark.parametrize(
    ("name", "status"),
    [("return", "submitted"), ("reopen", "published"), ("withdraw_plan", "published")],
)
def test_the_service_refuses_a_step_without_its_reason_whatever_the_route(
    client, admin, published, name, status
):
    if name == "return":
        published.status = "submitted"
        published.save()
    if name == "withdraw_plan":
        act(client, admin, "publish_plan")
    before = state(published)
    scope = services.entry_scope(admin, published.branch, published.fiscal_year, published)

    with pytest.raises(services.ReasonRequired, match="には理由が必要です"):
        services.transition(scope, name, reason=" ")

    assert state(published) == before
    assert published.status == status


def test_the_admin_asks_for_the_reason_of_a_reopening_on_a_page_listing_the_plans(
    client, admin, published
):
    other = BranchPlan.objects.create(
        branch=factories.branch("12"), fiscal_year=published.fiscal_year, status="published"
    )
    client.force_login(admin)
    url = "/admin/kpis/branchplan/"
    selected = {"action": "reopen_plans", "_selected_action": [published.pk, other.pk]}
    before = state(published)

    page = client.post(url, selected)

    html = page.content.decode()
    assert page.status_code == 200
    assert "公表の取り消しの理由" in html and "2件の公表の取り消しをします" in html
    assert "埼玉支部" in html and "千葉支部" in html
    assert state(published) == before

    refused = client.post(url, {**selected, "apply": "yes", "reason": "  "})

    assert "理由を入力してください。理由がないと操作できません。" in refused.content.decode()
    assert state(published) == before

    done = client.post(url, {**selected, "apply": "yes", "reason": "実績の訂正のため"}, follow=True)

    assert "2件の公表の取り消しをしました。" in done.content.decode()
    published.refresh_from_db()
    assert (published.status, published.last_step, published.last_step_reason) == (
        "draft",
        "reopen",
        "実績の訂正のため",
    )
    assert published.history.latest().history_change_reason == "公表の取り消し: 実績の訂正のため"


def test_the_admin_returns_a_submission_with_its_reason(client, admin, submitted):
    client.force_login(admin)
    url = "/admin/kpis/branchplan/"
    selected = {"action": "return_plans", "_selected_action": [submitted.pk]}
    assert "差し戻しの理由" in client.post(url, selected).content.decode()
    assert state(submitted)[0] == "submitted"

    client.post(url, {**selected, "apply": "yes", "reason": "4月の値を確認してください"})

    submitted.refresh_from_db()
    assert (submitted.status, submitted.last_step_reason, submitted.last_step_by) == (
        "draft",
        "4月の値を確認してください",
        admin,
    )


def test_the_admin_withdraws_the_plan_document_with_a_reason(client, admin, submitted):
    act(client, admin, "publish_plan")
    client.force_login(admin)
    url = "/admin/kpis/branchplan/"
    selected = {"action": "withdraw_plan_documents", "_selected_action": [submitted.pk]}

    client.post(url, {**selected, "apply": "yes", "reason": ""})
    submitted.refresh_from_db()
    assert submitted.plan_published_at is not None

    client.post(url, {**selected, "apply": "yes", "reason": "計画の誤記"})
    submitted.refresh_from_db()
    assert submitted.plan_published_at is None


def test_every_step_replaces_the_last_step_and_its_reason(client, manager_11, admin, submitted):
    assert (submitted.last_step, submitted.last_step_by, submitted.last_step_reason) == (
        "submit",
        manager_11,
        "",
    )
    act(client, admin, "return", "4月の値を確認してください")
    submitted.refresh_from_db()
    assert (submitted.last_step, submitted.last_step_by) == ("return", admin)
    assert submitted.last_step_reason == "4月の値を確認してください"
    returned_at = submitted.last_step_at

    act(client, manager_11, "submit")

    submitted.refresh_from_db()
    assert (submitted.last_step, submitted.last_step_reason) == ("submit", "")
    assert submitted.last_step_at > returned_at


def test_the_branch_sees_the_reason_of_a_return_on_its_pages_until_the_next_step(
    client, admin, staff_11, manager_11, submitted
):
    admin.first_name, admin.last_name = "太郎", "本部"
    admin.save()
    act(client, admin, "return", "4月の値を確認してください")
    submitted.refresh_from_db()
    when = timezone.localtime(submitted.last_step_at).strftime("%Y-%m-%d %H:%M")

    for user in (staff_11, manager_11, admin):
        client.force_login(user)
        for url in (fe.grid_url(), BRANCH_PAGE):
            page = client.get(url).content.decode()
            assert "本部から差し戻されました" in page, (user, url)
            assert "4月の値を確認してください" in page and when in page
            assert f"{when}、本部 太郎）" in page  # who, 姓 名

    act(client, manager_11, "submit")

    for url in (fe.grid_url(), BRANCH_PAGE):
        page = client.get(url).content.decode()
        assert "本部から差し戻されました" not in page
        assert "4月の値を確認してください" not in page


def test_only_the_branch_and_head_office_see_the_reason_of_a_reopening(
    client, settings, admin, staff_11, staff_12, council, published
):
    settings.PUBLIC_ACHIEVEMENT_PAGES = True
    act(client, admin, "reopen", "実績の訂正のため")

    for user in (staff_11, admin):
        client.force_login(user)
        page = client.get(BRANCH_PAGE).content.decode()
        assert "本部が公表を取り消しました" in page and "実績の訂正のため" in page
    for user in (council, staff_12, None):
        reader = Client()
        if user is not None:
            reader.force_login(user)
        response = reader.get(BRANCH_PAGE)
        assert response.status_code == 200  # the last publication, 再確認中
        assert "実績の訂正のため" not in response.content.decode(), user


def test_the_admins_edit_form_cannot_reopen_a_plan_around_the_reason(client, admin, published):
    before = state(published)
    client.force_login(admin)
    url = f"/admin/kpis/branchplan/{published.pk}/change/"

    page = client.get(url).content.decode()
    client.post(url, {"status": "draft", "last_step": "reopen", "last_step_reason": ""})

    assert 'name="status"' not in page
    assert state(published) == before
