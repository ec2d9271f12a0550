"""Sessions end when the browser closes and after eight hours without a request
(DJANGO_SESSION_IDLE_SECONDS); someone who keeps working stays logged in."""

import datetime
import runpy
from importlib.util import find_spec

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def clock(monkeypatch):
    """Django's clock, moved forward by hand."""
    now = [timezone.now()]
    monkeypatch.setattr(timezone, "now", lambda: now[0])

    def advance(delta):
        now[0] += delta

    return advance


def logged_in(client) -> bool:
    response = client.get("/")
    return response.status_code == 200


def test_the_session_cookie_lasts_until_the_browser_closes(client, admin):
    response = client.post(
        "/accounts/login/", {"username": admin.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302

    cookie = response.cookies["sessionid"]

    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""


def test_a_session_idle_longer_than_eight_hours_is_logged_out(client, admin, clock):
    client.force_login(admin)
    assert logged_in(client)

    clock(8 * HOUR + datetime.timedelta(seconds=1))

    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_session_in_use_outlasts_eight_hours(client, admin, clock):
    client.force_login(admin)

    for _ in range(4):  # a request every seven hours, 28 hours in all
        clock(7 * HOUR)
        assert logged_in(client)


def test_the_idle_timeout_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SESSION_IDLE_SECONDS", "900")

    values = runpy.run_path(find_spec("config.settings").origin)

    assert values["SESSION_COOKIE_AGE"] == 900
    assert values["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True


def test_an_active_session_is_not_written_on_every_request(client, admin, clock):
    from django.contrib.sessions.models import Session

    client.force_login(admin)
    client.get("/")
    saved = Session.objects.get().expire_date

    clock(datetime.timedelta(minutes=1))
    client.get("/")
    assert Session.objects.get().expire_date == saved

    clock(datetime.timedelta(minutes=5))
    client.get("/")
    assert Session.objects.get().expire_date > saved
