import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from branches.models import Membership
from branches.roles import ADMIN_GROUP, COUNCIL_GROUP, is_admin, is_council, membership_of
from tests.factories import MembershipFactory, UserFactory, branch

pytestmark = pytest.mark.django_db


def test_role_groups_exist_with_their_permissions():
    admin_perms = set(
        Group.objects.get(name=ADMIN_GROUP).permissions.values_list("codename", flat=True)
    )
    council_perms = set(
        Group.objects.get(name=COUNCIL_GROUP).permissions.values_list("codename", flat=True)
    )
    assert {"add_kpi", "change_kpi", "delete_kpi", "change_branch", "change_user"} <= admin_perms
    assert {"view_kpi", "view_measure", "view_indicator"} <= council_perms
    assert not any(p.startswith(("add_", "change_", "delete_")) for p in council_perms)


def test_roles_of_the_cast(admin, council, staff_11, manager_11):
    assert is_admin(admin) and not is_council(admin) and membership_of(admin) is None
    assert is_council(council) and not is_admin(council)
    assert membership_of(staff_11).branch.code == "11"
    assert not membership_of(staff_11).is_manager
    assert membership_of(manager_11).is_manager
    assert not is_admin(staff_11) and not is_council(staff_11)


def test_a_superuser_is_an_admin():
    assert is_admin(UserFactory(is_superuser=True))


def test_a_user_belongs_to_at_most_one_branch(staff_11):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=staff_11, branch=branch("12"))


def test_admin_group_member_can_use_the_django_admin(client, admin):
    client.force_login(admin)
    response = client.get("/admin/kpis/kpi/")
    assert response.status_code == 200


def test_branch_staff_cannot_use_the_django_admin(client):
    user = MembershipFactory().user
    client.force_login(user)
    response = client.get("/admin/kpis/kpi/")
    assert response.status_code == 302
