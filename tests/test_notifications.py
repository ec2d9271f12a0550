"""Who is told of a workflow step, and when: the branch's managers of a return, a publication
and a reopening, head office of a submission — by mail once the step's transaction has
committed (never when it rolls back), and on their home page. A failing mail server is
logged and retried, and never undoes or breaks the step."""

import logging
from types import SimpleNamespace

import pytest
from django.core import mail as outbox
from django.core.mail import EmailMessage
from django.db import transaction

from branches.models import Membership
from kpis.entry import services
from kpis.models import BranchPlan
from notices import mail
from notices.models import Event
from tests import factories
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db


def with_email(user, address):
    user.email = address
    user.save()
    return user


@pytest.fixture
def people(staff_11, manager_11, staff_12, council, admin):
    """Everyone with an address, and a second manager of 埼玉 and a manager of 千葉."""
    second = factories.MembershipFactory(
        user__username="manager11b", branch=factories.branch("11"), role=Membership.Role.MANAGER
    ).user
    chiba = factories.MembershipFactory(
        user__username="manager12", branch=factories.branch("12"), role=Membership.Role.MANAGER
    ).user
    superuser = factories.UserFactory(username="root", is_superuser=True)
    cast = {
        "staff_11": staff_11,
        "manager_11": manager_11,
        "manager_11b": second,
        "staff_12": staff_12,
        "manager_12": chiba,
        "council": council,
        "admin": admin,
        "superuser": superuser,
    }
    for name, user in cast.items():
        with_email(user, f"{name}@example.jp")
    fe.kpi(name="特定健診実施率", unit="%")
    return cast


def act(client, user, action, reason=""):
    client.force_login(user)
    return client.post(f"/entry/11/2023/workflow/{action}/", {"reason": reason})


def addressees():
    return sorted(address for message in outbox.outbox for address in message.to)


def test_a_submission_is_mailed_to_head_office_after_the_commit(
    client, settings, people, django_capture_on_commit_callbacks
):
    settings.KPI_SITE_URL = "https://kpi.example.jp"
    manager = people["manager_11"]
    manager.last_name, manager.first_name = "埼玉", "花子"
    manager.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        act(client, people["manager_11"], "submit")

    assert len(callbacks) == 1
    assert addressees() == ["admin@example.jp", "superuser@example.jp"]
    message = outbox.outbox[0]
    assert message.subject == "[支部KPI管理] 埼玉支部 令和5年度: 提出"
    assert "埼玉支部 令和5年度の実施状況が提出されました。" in message.body
    assert "https://kpi.example.jp/entry/11/2023/" in message.body
    assert "操作した人: 埼玉 花子" in message.body


@pytest.mark.parametrize(
    ("steps", "subject", "reason"),
    [
        ([("submit", ""), ("return", "4月の値を確認してください")], "差し戻し", True),
        ([("submit", ""), ("publish", "")], "公表", False),
        ([("submit", ""), ("publish", ""), ("reopen", "実績の訂正のため")], "公表の取り消し", True),
    ],
)
def test_head_office_steps_are_mailed_to_the_branch_managers(
    client, people, django_capture_on_commit_callbacks, steps, subject, reason
):
    for name, text in steps[:-1]:
        user = people["manager_11"] if name == "submit" else people["admin"]
        act(client, user, name, text)
    name, text = steps[-1]

    with django_capture_on_commit_callbacks(execute=True):
        act(client, people["admin"], name, text)

    assert addressees() == ["manager_11@example.jp", "manager_11b@example.jp"]
    message = outbox.outbox[0]
    assert message.subject == f"[支部KPI管理] 埼玉支部 令和5年度: {subject}"
    assert (f"理由: {text}" in message.body) is reason
    assert "http://localhost:8000/entry/11/2023/" in message.body
    events = Event.objects.filter(kind=name)
    assert sorted(e.recipient.username for e in events) == ["manager11", "manager11b"]
    assert all(e.mailed_at for e in events)


def test_nothing_is_mailed_before_the_commit(client, people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        act(client, people["manager_11"], "submit")

    assert BranchPlan.objects.get().status == "submitted"
    assert outbox.outbox == []
    assert len(callbacks) == 1


def test_a_person_without_an_address_gets_the_event_but_no_mail(
    client, people, django_capture_on_commit_callbacks
):
    with_email(people["manager_11b"], "")
    act(client, people["manager_11"], "submit")
    with django_capture_on_commit_callbacks(execute=True):
        act(client, people["admin"], "return", "根拠資料を添付してください")

    assert addressees() == ["manager_11@example.jp"]
    assert Event.objects.filter(recipient=people["manager_11b"], kind="return").exists()


def failing_send(times):
    """EmailMessage.send failing `times` times (a mail server that refuses), then working."""
    real = EmailMessage.send
    calls = []

    def send(message, *args, **kwargs):
        calls.append(message.to)
        if len(calls) <= times:
            raise ConnectionRefusedError("mail server down")
        return real(message, *args, **kwargs)

    return send, calls


def test_a_failing_send_is_logged_and_retried(
    client, people, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    act(client, people["manager_11"], "submit")
    send, calls = failing_send(times=1)
    monkeypatch.setattr(EmailMessage, "send", send)

    with (
        caplog.at_level(logging.WARNING, logger="notices"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = act(client, people["admin"], "return", "4月の値を確認してください")

    assert response.status_code == 302
    assert BranchPlan.objects.get().status == "draft"
    # Three sends: the first failed and was retried; both managers have their mail.
    assert len(calls) == 3
    assert addressees() == ["manager_11@example.jp", "manager_11b@example.jp"]
    assert "failed (attempt 1 of 4)" in caplog.text


def test_a_send_that_keeps_failing_is_given_up_without_breaking_the_step(
    client, people, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    with_email(people["manager_11b"], "")
    act(client, people["manager_11"], "submit")
    send, calls = failing_send(times=100)
    monkeypatch.setattr(EmailMessage, "send", send)

    with (
        caplog.at_level(logging.WARNING, logger="notices"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = act(client, people["admin"], "return", "4月の値を確認してください")

    assert response.status_code == 302
    assert BranchPlan.objects.get().status == "draft"
    assert len(calls) == mail.MAX_ATTEMPTS
    assert "given up after 4 attempts" in caplog.text
    event = Event.objects.get(kind="return", recipient=people["manager_11"])
    assert event.mailed_at is None  # still on the manager's home page


def test_a_queue_that_cannot_take_the_mail_does_not_break_the_step(
    client, people, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def refuse(*args, **kwargs):
        raise RuntimeError("queue unavailable")

    monkeypatch.setattr(mail, "send_event_mail", SimpleNamespace(enqueue=refuse))
    with (
        caplog.at_level(logging.ERROR, logger="notices"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = act(client, people["manager_11"], "submit")

    assert response.status_code == 302
    assert BranchPlan.objects.get().status == "submitted"
    assert "could not be queued" in caplog.text
    assert outbox.outbox == []


@pytest.mark.django_db(transaction=True)
def test_mail_goes_out_once_the_step_commits(branches_present, people):
    plan_scope = services.entry_scope(
        people["manager_11"], factories.branch("11"), fe.fiscal_year(2023), None
    )

    services.transition(plan_scope, "submit")

    assert addressees() == ["admin@example.jp", "superuser@example.jp"]


@pytest.mark.django_db(transaction=True)
def test_no_mail_and_no_event_when_the_transaction_rolls_back(branches_present, people):
    plan_scope = services.entry_scope(
        people["manager_11"], factories.branch("11"), fe.fiscal_year(2023), None
    )

    with pytest.raises(RuntimeError), transaction.atomic():
        services.transition(plan_scope, "submit")
        raise RuntimeError("a later step of the same transaction failed")

    assert outbox.outbox == []
    assert not Event.objects.exists()
    assert not BranchPlan.objects.exists()


# --- the home page ------------------------------------------------------------------------------


def test_the_home_page_lists_the_person_s_recent_events(
    client, people, django_capture_on_commit_callbacks
):
    act(client, people["manager_11"], "submit")
    act(client, people["admin"], "return", "4月の値を確認してください")

    client.force_login(people["manager_11"])
    page = client.get("/").content.decode()

    assert "最近のお知らせ" in page
    assert "埼玉支部 令和5年度: 差し戻し" in page
    assert "4月の値を確認してください" in page
    assert 'href="/entry/11/2023/"' in page

    client.force_login(people["staff_11"])
    assert "最近のお知らせ" not in client.get("/").content.decode()


def test_the_home_page_asks_the_same_number_of_queries_for_one_event_or_many(
    client, people, django_assert_max_num_queries
):
    manager = people["manager_11"]
    client.force_login(manager)
    Event.objects.create(recipient=manager, kind="publish", subject="一件目", message="本文")
    with django_assert_max_num_queries(50) as one:
        client.get("/")
    for n in range(8):
        Event.objects.create(recipient=manager, kind="publish", subject=f"件{n}", message="本文")
    with django_assert_max_num_queries(50) as many:
        page = client.get("/").content.decode()

    assert len(many.captured_queries) == len(one.captured_queries)
    assert "件7" in page and "一件目" not in page  # the five latest
