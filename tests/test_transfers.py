"""Transfers (異動): a person moves to another branch from a date. Their past saves keep
naming them and the branch they belonged to then; the move counts from its day without
waiting for the daily command; deactivating keeps the history."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from branches import transfers
from branches.models import Membership, Posting
from branches.roles import membership_of
from kpis.entry import audit
from kpis.models import MonthlyValue
from tests import factories
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db

STAFF = Membership.Role.STAFF


@pytest.fixture
def saitama_rate(db):
    return fe.kpi("11", name="特定健診実施率", unit="%")


@pytest.fixture
def chiba_rate(db):
    return fe.kpi("12", name="特定保健指導実施率", unit="%")


def save_as(client, user, kpi, text):
    client.force_login(user)
    response = client.post(fe.grid_url(kpi.branch.code), fe.grid_data([kpi], {(kpi, 4): text}))
    assert response.status_code == 302, response.content.decode()[:500]


def saves_of(user) -> list[tuple[str, str, str]]:
    """(value, who, the branch at the time) of the person's monthly saves, oldest first."""
    records = (
        MonthlyValue.history.filter(history_user=user)
        .select_related("history_user")
        .annotate(branch_then=transfers.branch_name_then())
        .order_by("history_date", "history_id")
    )
    return [(r.text, r.history_user.username, audit.at_the_time(r)) for r in records]


def fresh(user):
    return type(user).objects.get(pk=user.pk)


def test_saves_before_a_transfer_keep_the_old_branch(client, saitama_rate, chiba_rate, staff_11):
    save_as(client, staff_11, saitama_rate, "90%")

    transfers.transfer(staff_11, factories.branch("12"), STAFF, timezone.localdate())
    save_as(client, fresh(staff_11), chiba_rate, "40%")

    assert saves_of(staff_11) == [
        ("90%", "staff11", "（当時 埼玉支部）"),
        ("40%", "staff11", "（当時 千葉支部）"),
    ]
    assert Membership.objects.get(user=staff_11).branch.code == "12"


def test_the_old_branch_is_closed_at_once(client, saitama_rate, staff_11):
    transfers.transfer(staff_11, factories.branch("12"), STAFF, timezone.localdate())

    client.force_login(staff_11)
    response = client.post(fe.grid_url(), fe.grid_data([saitama_rate], {(saitama_rate, 4): "1%"}))

    assert response.status_code == 403
    assert not MonthlyValue.objects.filter(kpi=saitama_rate).exists()


def test_a_dated_transfer_counts_from_its_day_without_the_daily_command(staff_11):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    posting = transfers.transfer(staff_11, factories.branch("12"), STAFF, tomorrow)
    assert membership_of(fresh(staff_11)).branch.code == "11"

    # The day comes; apply_transfers has not run yet.
    Posting.objects.filter(pk=posting.pk).update(effective_at=timezone.now())
    assert membership_of(fresh(staff_11)).branch.code == "12"
    assert Membership.objects.get(user=staff_11).branch.code == "11"

    call_command("apply_transfers", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Membership.objects.get(user=staff_11).branch.code == "12"
    assert transfers.apply_due() == []  # nothing twice


def test_a_transfer_recorded_during_the_day_leaves_that_days_earlier_saves_to_the_old_branch(
    client, saitama_rate, staff_11
):
    ten_days_ago = timezone.now() - datetime.timedelta(days=10)
    Posting.objects.filter(user=staff_11).update(effective_at=ten_days_ago)
    save_as(client, staff_11, saitama_rate, "90%")
    # Dated yesterday, recorded only now: the save above was still made in 埼玉.
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    transfers.transfer(staff_11, factories.branch("12"), STAFF, yesterday)

    assert saves_of(staff_11) == [("90%", "staff11", "（当時 埼玉支部）")]


def test_a_membership_changed_in_the_admin_is_a_posting_too(staff_11):
    membership = Membership.objects.get(user=staff_11)
    membership.branch = factories.branch("12")
    membership.save()

    postings = [(p.branch.code, p.applied) for p in transfers.postings_of(staff_11)]
    assert postings == [("11", True), ("12", True)]


def test_deactivating_keeps_the_name_on_past_saves(client, saitama_rate, staff_11):
    save_as(client, staff_11, saitama_rate, "90%")
    staff_11.is_active = False
    staff_11.save()

    assert saves_of(staff_11) == [("90%", "staff11", "（当時 埼玉支部）")]
    client.logout()
    client.post("/accounts/login/", {"username": "staff11", "password": "correct-horse-battery"})
    assert "_auth_user_id" not in client.session


def test_the_old_branchs_history_page_names_the_branch_of_the_time(
    client, saitama_rate, staff_11, manager_11
):
    save_as(client, staff_11, saitama_rate, "90%")
    transfers.transfer(staff_11, factories.branch("12"), STAFF, timezone.localdate())

    client.force_login(manager_11)
    html = client.get(fe.grid_url().rstrip("/") + "/history/").content.decode()

    assert "（当時 埼玉支部）" in html
