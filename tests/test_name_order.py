"""People are named in Japanese order, 姓 名 (「埼玉 担当者」, not 「担当者 埼玉」): in the page
header, the entry history, a conflict message, the import pages and the admin's user list."""

import pytest
from django.utils import timezone

from branches.people import display_name
from tests import factories
from tests import factories_entry as fe
from tests.factories_imports import activity_row, kpi_row, load, xlsx

pytestmark = pytest.mark.django_db


def named(user, last_name, first_name):
    user.last_name, user.first_name = last_name, first_name
    user.save()
    return user


@pytest.fixture
def staff(staff_11):
    return named(staff_11, "埼玉", "担当者")


@pytest.fixture
def manager(manager_11):
    return named(manager_11, "埼玉", "管理者")


@pytest.fixture
def head_office(admin):
    return named(admin, "本部", "管理者")


@pytest.fixture
def rate(db):
    return fe.kpi(name="特定健診実施率", unit="%")


def page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_family_name_first_then_given_name_else_the_user_name():
    user = factories.UserFactory.build(username="staff11", last_name="埼玉", first_name="担当者")
    assert display_name(user) == "埼玉 担当者"
    user.first_name = ""
    assert display_name(user) == "埼玉"
    user.last_name = ""
    assert display_name(user) == "staff11"
    assert display_name(None) == ""


def test_header_names_the_person_family_name_first(client, staff, rate):
    html = page(client, staff, fe.grid_url())
    assert "埼玉 担当者（埼玉支部 担当者）" in html
    assert "担当者 埼玉" not in html


def test_the_no_role_page_names_the_person_family_name_first(client):
    newcomer = named(factories.UserFactory(username="newcomer"), "新井", "花子")
    client.force_login(newcomer)
    html = client.get("/kpis/").content.decode()
    assert "新井 花子" in html and "花子 新井" not in html


def test_entry_history_names_who_changed_a_value(client, staff, rate):
    client.force_login(staff)
    client.post(fe.grid_url(), fe.grid_data([rate], {(rate, 4): "90%"}))
    html = page(client, staff, "/entry/11/2023/history/")
    assert "埼玉 担当者" in html and "担当者 埼玉" not in html


def test_a_conflict_names_who_saved_first(client, staff, manager, rate):
    fe.value(rate, 4, "90%")
    stale = fe.grid_data([rate], {(rate, 4): "91%"})
    client.force_login(manager)
    client.post(fe.grid_url(), fe.grid_data([rate], {(rate, 4): "95%"}))
    client.force_login(staff)
    html = client.post(fe.grid_url(), stale).content.decode()
    assert "現在の値は「95%」（埼玉 管理者、" in html


def test_import_pages_name_who_imported_and_who_undid(client, head_office):
    batch = load(xlsx([kpi_row(), activity_row()]), user=head_office)
    assert "本部 管理者" in page(client, head_office, "/imports/")
    batch.undone_by, batch.undone_at = head_office, timezone.now()
    batch.save()
    html = page(client, head_office, f"/imports/{batch.pk}/result/")
    assert html.count("本部 管理者") >= 2  # received by, undone by
    assert "管理者 本部" not in html


def test_admin_lists_accounts_with_the_name_family_name_first(client, head_office, staff):
    html = page(client, head_office, "/admin/auth/user/")
    assert "氏名" in html
    assert "埼玉 担当者" in html
    html = page(client, head_office, "/admin/branches/membership/")
    assert "埼玉 担当者" in html
