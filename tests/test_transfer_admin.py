"""Head office sees every transfer in the admin (配属履歴), past and waiting, and may cancel
one that has not taken effect; a transfer that has is the record past saves are named by,
and stays as it is."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from branches import transfers
from branches.models import Membership, Posting
from branches.roles import membership_of
from tests import factories

pytestmark = pytest.mark.django_db

STAFF = Membership.Role.STAFF


@pytest.fixture
def postings(staff_11, staff_12):
    """(the one applied today, the one waiting for next month)."""
    today = timezone.localdate()
    applied = transfers.transfer(staff_11, factories.branch("13"), STAFF, today)
    next_month = today + datetime.timedelta(days=30)
    waiting = transfers.transfer(staff_12, factories.branch("14"), STAFF, next_month)
    return Posting.objects.get(pk=applied.pk), Posting.objects.get(pk=waiting.pk)


def test_the_list_shows_applied_and_waiting_transfers(client, admin, postings):
    client.force_login(admin)

    page = client.get(reverse("admin:branches_posting_changelist")).content.decode()

    assert "配属履歴" in page
    assert page.count('<td class="field-branch') == Posting.objects.count()
    assert postings[0].branch.name in page and postings[1].branch.name in page
    assert reverse("admin:branches_posting_add") not in page


def test_a_waiting_transfer_can_be_cancelled(client, admin, postings, staff_12):
    _, waiting = postings
    client.force_login(admin)

    page = client.get(reverse("admin:branches_posting_change", args=[waiting.pk]))
    assert "deletelink" in page.content.decode()
    url = reverse("admin:branches_posting_delete", args=[waiting.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"post": "yes"})

    assert not Posting.objects.filter(pk=waiting.pk).exists()
    transfers.apply_due(timezone.now() + datetime.timedelta(days=31))
    assert membership_of(type(staff_12).objects.get(pk=staff_12.pk)).branch.code == "12"


def test_an_applied_transfer_cannot_be_changed_or_deleted(client, admin, postings):
    applied, _ = postings
    client.force_login(admin)

    page = client.get(reverse("admin:branches_posting_change", args=[applied.pk]))
    delete = client.get(reverse("admin:branches_posting_delete", args=[applied.pk]))
    add = client.get(reverse("admin:branches_posting_add"))
    change = client.post(
        reverse("admin:branches_posting_change", args=[applied.pk]), {"role": "manager"}
    )

    assert page.status_code == 200 and "deletelink" not in page.content.decode()
    assert (delete.status_code, add.status_code, change.status_code) == (403, 403, 403)
    assert Posting.objects.get(pk=applied.pk).role == STAFF
