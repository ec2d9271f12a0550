"""A workflow reason (差し戻し, 公表の取り消し) is kept whole in the plan's history or refused
with a message that states the limit; it is never cut or dropped."""

import pytest

from kpis.entry import services
from kpis.models import BranchPlan
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db

LIMIT = services.MAX_TRANSITION_REASON


@pytest.fixture
def submitted(db, manager_11, client):
    fe.kpi(name="特定健診実施率", unit="%")
    client.force_login(manager_11)
    client.post("/entry/11/2023/workflow/submit/")
    return BranchPlan.objects.get(branch__code="11")


def act(client, user, action, reason):
    client.force_login(user)
    return client.post(f"/entry/11/2023/workflow/{action}/", {"reason": reason}, follow=True)


def reasons(plan):
    return [h.history_change_reason for h in plan.history.order_by("history_id")]


@pytest.mark.parametrize("length", [LIMIT + 1, 1000])
def test_a_return_with_a_reason_too_long_is_refused_saying_the_limit(
    client, admin, submitted, length
):
    response = act(client, admin, "return", "修" * length)

    assert (
        f"理由は{LIMIT}文字以内で入力してください（入力は{length}文字です）。操作はしていません。"
        in response.content.decode()
    )
    submitted.refresh_from_db()
    assert submitted.status == "submitted"
    assert reasons(submitted) == ["提出"]


def test_a_return_with_the_longest_reason_keeps_it_whole(client, admin, submitted):
    reason = "数値の根拠資料を添付してください。" * 29 + "あ" * (LIMIT - 493)
    assert len(reason) == LIMIT

    act(client, admin, "return", reason)

    submitted.refresh_from_db()
    assert submitted.status == "draft"
    assert reasons(submitted)[-1] == f"差し戻し: {reason}"


def test_a_reopen_with_a_reason_too_long_is_refused(client, admin, submitted):
    act(client, admin, "publish", "")

    response = act(client, admin, "reopen", "理" * (LIMIT + 1))

    assert f"理由は{LIMIT}文字以内" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == "published"


def test_the_service_refuses_a_reason_too_long_whatever_the_route(admin, submitted):
    scope = services.entry_scope(admin, submitted.branch, submitted.fiscal_year, submitted)

    with pytest.raises(services.TransitionRefused, match=f"理由は{LIMIT}文字以内"):
        services.transition(scope, "return", reason="修" * (LIMIT + 1))
    submitted.refresh_from_db()
    assert submitted.status == "submitted"
