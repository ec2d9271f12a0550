"""The login report (ログイン状況): head office sees who has never logged in and who has not
logged in for 90 days; deactivated people and superusers are not listed."""

import datetime

import pytest
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db


def person(username, days_ago=None, **fields):
    last_login = None if days_ago is None else timezone.now() - datetime.timedelta(days=days_ago)
    return factories.UserFactory(username=username, last_login=last_login, **fields)


def section(html: str, title: str) -> str:
    start = html.index(f"<h2>{title}")
    end = html.find("<h2>", start + 1)
    return html[start : end if end != -1 else len(html)]


def test_the_report_lists_the_right_people(client, admin):
    person("never-came")
    person("away-100-days", days_ago=100)
    person("away-89-days", days_ago=89)
    person("yesterday", days_ago=1)
    person("left-never-came", is_active=False)
    person("left-long-ago", days_ago=400, is_active=False)
    person("root-never", is_superuser=True)
    factories.MembershipFactory(user=person("kumamoto-new"), branch=factories.branch("43"))
    client.force_login(admin)  # the admin has logged in now

    html = client.get("/people/logins/").content.decode()

    never = section(html, "一度もログインしていない人")
    stale = section(html, "90日以上ログインしていない人")
    assert "never-came" in never and "kumamoto-new" in never and "熊本支部 担当者" in never
    assert "away-100-days" in stale
    everyone_listed = never + stale
    for name in ("away-89-days", "yesterday", "left-", "root-never", "head-office"):
        assert name not in everyone_listed, name
    assert "一度もログインしていない人（2人）" in html
    assert "90日以上ログインしていない人（1人）" in html


def test_only_head_office_opens_the_report(client, staff_11):
    client.force_login(staff_11)

    assert client.get("/people/logins/").status_code == 403


def test_the_user_admin_filters_the_same_people(client, admin):
    person("never-came")
    person("away-100-days", days_ago=100)
    person("yesterday", days_ago=1)
    client.force_login(admin)

    never = client.get("/admin/auth/user/?login=never").content.decode()
    stale = client.get("/admin/auth/user/?login=stale").content.decode()

    assert "never-came" in never and "away-100-days" not in never and "yesterday" not in never
    assert "away-100-days" in stale and "never-came" not in stale and "yesterday" not in stale
