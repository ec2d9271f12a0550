"""In the Django admin a head-office admin (本部管理者: staff, not superuser) edits accounts
but cannot grant superuser, staff status, groups or permissions — to anyone, themselves
included — and cannot open a superuser's account; a superuser can do all of it."""

import pytest
from django.contrib.auth.models import Group, Permission

from branches.roles import ADMIN_GROUP
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def privileged_post(client, user, **fields):
    """The change form of `user` submitted with every privilege ticked and a new 姓."""
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "変更後",
        "email": "",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "groups": [Group.objects.get(name=ADMIN_GROUP).pk],
        "user_permissions": [Permission.objects.get(codename="delete_group").pk],
        "date_joined_0": "2024-04-01",
        "date_joined_1": "09:00:00",
        **fields,
    }
    return client.post(f"/admin/auth/user/{user.pk}/change/", data)


def privileges(user):
    user.refresh_from_db()
    return (
        user.is_superuser,
        user.is_staff,
        sorted(user.groups.values_list("name", flat=True)),
        sorted(user.user_permissions.values_list("codename", flat=True)),
    )


def test_a_head_office_admin_cannot_make_themselves_superuser(client, admin):
    client.force_login(admin)
    before = privileges(admin)

    response = privileged_post(client, admin)

    assert response.status_code == 302
    assert privileges(admin) == before == (False, True, [ADMIN_GROUP], [])
    assert admin.last_name == "変更後"  # the rest of the form was saved


def test_a_head_office_admin_cannot_raise_another_account(client, admin, staff_11):
    client.force_login(admin)
    before = privileges(staff_11)

    response = privileged_post(client, staff_11)

    assert response.status_code == 302
    assert privileges(staff_11) == before == (False, False, [], [])
    assert staff_11.last_name == "変更後"


def test_a_head_office_admin_cannot_drop_a_privilege_either(client, admin):
    other = UserFactory(username="other-admin", is_staff=True)
    other.groups.add(Group.objects.get(name=ADMIN_GROUP))
    client.force_login(admin)

    privileged_post(client, other, is_staff="", is_superuser="", groups=[])

    assert privileges(other) == (False, True, [ADMIN_GROUP], [])


def test_the_change_form_shows_privileges_as_text_to_a_head_office_admin(client, admin):
    client.force_login(admin)

    page = client.get(f"/admin/auth/user/{admin.pk}/change/").content.decode()

    assert 'name="is_superuser"' not in page
    assert 'name="groups"' not in page
    assert 'name="username"' in page


def test_a_head_office_admin_cannot_open_a_superusers_account(client, admin):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)

    change = client.get(f"/admin/auth/user/{root.pk}/change/")
    password = client.post(
        f"/admin/auth/user/{root.pk}/password/",
        {"password1": "takeover-pass-2024", "password2": "takeover-pass-2024"},
    )

    assert change.status_code == 302  # "does not exist", back to the list
    assert password.status_code == 404
    root.refresh_from_db()
    assert root.check_password("correct-horse-battery")
    assert "root" not in client.get("/admin/auth/user/").content.decode()


def test_a_superuser_grants_privileges(client, staff_11):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)

    response = privileged_post(client, staff_11)

    assert response.status_code == 302
    assert privileges(staff_11) == (True, True, [ADMIN_GROUP], ["delete_group"])
