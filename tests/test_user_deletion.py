"""An account whose saves are in the history is deactivated, not deleted: the admin's delete
page and its bulk action refuse and say why; an account that never saved anything goes."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from branches.models import Posting
from kpis.models import MonthlyValue
from tests import factories
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def saved(client, staff_11):
    """staff11 saved a month through the grid; the history names them."""
    kpi = fe.kpi("11", name="特定健診実施率", unit="%")
    client.force_login(staff_11)
    response = client.post(fe.grid_url("11"), fe.grid_data([kpi], {(kpi, 4): "90%"}))
    assert response.status_code == 302
    client.logout()
    return staff_11


def test_the_delete_page_refuses_someone_with_saves_and_says_to_deactivate(client, admin, saved):
    client.force_login(admin)
    url = reverse("admin:auth_user_delete", args=[saved.pk])

    page = client.get(url).content.decode()
    response = client.post(url, {"post": "yes"})

    assert "月次実績の変更履歴 1件" in page
    assert "削除せずに「有効」のチェックを外してください" in page
    assert response.status_code == 200  # the same page again, nothing deleted
    assert User.objects.filter(pk=saved.pk).exists()
    assert MonthlyValue.history.get().history_user == saved


def test_the_bulk_delete_keeps_everyone_when_one_has_saves(client, admin, saved):
    never_saved = factories.UserFactory(username="newcomer")
    client.force_login(admin)

    response = client.post(
        reverse("admin:auth_user_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [saved.pk, never_saved.pk],
            "post": "yes",
        },
    )

    assert "削除せずに「有効」のチェックを外してください" in response.content.decode()
    assert set(User.objects.filter(pk__in=[saved.pk, never_saved.pk])) == {saved, never_saved}


def test_someone_who_never_saved_is_deleted(client, admin):
    newcomer = factories.UserFactory(username="newcomer")
    client.force_login(admin)

    client.post(reverse("admin:auth_user_delete", args=[newcomer.pk]), {"post": "yes"})

    assert not User.objects.filter(pk=newcomer.pk).exists()


def test_someone_who_never_saved_is_deleted_with_their_postings(client, admin):
    """An account made by mistake, already placed in a branch: its 配属履歴 goes with it (the
    postings' own admin refuses to delete one that took effect, not this)."""
    newcomer = factories.MembershipFactory(user__username="newcomer").user
    assert Posting.objects.filter(user=newcomer).exists()
    client.force_login(admin)

    client.post(reverse("admin:auth_user_delete", args=[newcomer.pk]), {"post": "yes"})

    assert not User.objects.filter(pk=newcomer.pk).exists()
    assert not Posting.objects.filter(user_id=newcomer.pk).exists()
