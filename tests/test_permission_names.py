"""The admin's user and group pages list permissions by name: in Japanese, from the model's
own name (Django creates them as "Can add KPI" whatever the language)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from branches.permission_names import name_permissions_in_japanese

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("auth", "branches", "kpis", "imports", "notices", "ops")


def names(app_label: str) -> dict[str, str]:
    return dict(
        Permission.objects.filter(content_type__app_label=app_label).values_list("codename", "name")
    )


def test_the_projects_permissions_are_named_in_japanese_after_migrate():
    kpis = names("kpis")

    assert kpis["add_kpi"] == "KPIを追加できる"
    assert kpis["view_historicalkpi"] == "KPIの履歴を閲覧できる"
    assert names("auth")["change_user"] == "ユーザーを変更できる"
    english = Permission.objects.filter(
        content_type__app_label__in=PROJECT_APPS, name__startswith="Can "
    )
    assert list(english) == []


def test_a_permission_created_in_english_is_renamed_and_its_codename_kept():
    permission = Permission.objects.get(codename="delete_monthlyvalue")
    Permission.objects.filter(pk=permission.pk).update(name="Can delete monthly value")

    name_permissions_in_japanese()

    permission.refresh_from_db()
    assert (permission.codename, permission.name) == ("delete_monthlyvalue", "月次実績を削除できる")


def test_the_group_page_lists_them_in_japanese(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "", "x"))

    page = client.get(reverse("admin:auth_group_add")).content.decode()

    assert "KPIを追加できる" in page
    assert "Can add" not in page
