"""Login throttling counts failures per client, also behind the TLS proxy: one person's
wrong passwords (or an attacker's) never lock out someone else at another address, and a
client cannot pick the address its failures count against."""

import runpy
from importlib.util import find_spec

import pytest
from django.core.management import call_command

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # every request behind the proxy comes from it


def settings_from_env(monkeypatch, **env) -> dict:
    """config/settings.py evaluated with `env` as a server would start with it."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(find_spec("config.settings").origin)


@pytest.fixture
def configured(settings, monkeypatch):
    """Apply the client-address settings that config/settings.py derives from `env`."""

    def configure(**env):
        values = settings_from_env(monkeypatch, **env)
        for name, value in values.items():
            if name.startswith(("AXES_IPWARE_", "IPWARE_")):
                setattr(settings, name, value)

    return configure


def login(client, username, password, **meta):
    return client.post("/accounts/login/", {"username": username, "password": password}, **meta)


def lock_out(client, username, **meta):
    for _ in range(5):
        response = login(client, username, "wrong-password", **meta)
    assert response.status_code == 429


def test_behind_the_proxy_clients_are_throttled_by_their_own_address(configured, client):
    configured(DJANGO_BEHIND_TLS_PROXY="1")
    UserFactory(username="honbu")
    attacker = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.66"}
    admin = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.10"}

    lock_out(client, "honbu", **attacker)

    assert login(client, "honbu", "correct-horse-battery", **attacker).status_code == 429
    response = login(client, "honbu", "correct-horse-battery", **admin)
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def test_behind_the_proxy_a_forged_entry_left_of_the_proxys_does_not_count(configured, client):
    """The attacker writes the admin's address into the header; the proxy appends the
    attacker's real one, and that is what the failures count against."""
    configured(DJANGO_BEHIND_TLS_PROXY="1")
    UserFactory(username="honbu")
    forged = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.10, 203.0.113.66"}

    lock_out(client, "honbu", **forged)

    admin = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.10"}
    assert login(client, "honbu", "correct-horse-battery", **admin).status_code == 302


def test_with_two_proxies_the_client_is_the_second_entry_from_the_right(configured, client):
    configured(DJANGO_BEHIND_TLS_PROXY="1", DJANGO_TRUSTED_PROXY_COUNT="2")
    UserFactory(username="honbu")

    lock_out(
        client,
        "honbu",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.10, 203.0.113.66, 10.0.0.1",
    )

    other = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.10, 10.0.0.1"}
    assert login(client, "honbu", "correct-horse-battery", **other).status_code == 302


def test_without_the_proxy_a_forged_header_is_ignored(configured, client):
    configured(DJANGO_BEHIND_TLS_PROXY="0")
    UserFactory(username="honbu")

    for n in range(5):
        forged = {"REMOTE_ADDR": "203.0.113.66", "HTTP_X_FORWARDED_FOR": f"192.0.2.{n}"}
        response = login(client, "honbu", "wrong-password", **forged)

    assert response.status_code == 429
    forged = {"REMOTE_ADDR": "203.0.113.66", "HTTP_X_FORWARDED_FOR": "192.0.2.99"}
    assert login(client, "honbu", "correct-horse-battery", **forged).status_code == 429


def test_an_admin_unlocks_a_person_with_axes_reset_username(configured, client):
    configured(DJANGO_BEHIND_TLS_PROXY="0")
    UserFactory(username="honbu")
    lock_out(client, "honbu", REMOTE_ADDR="203.0.113.66")

    call_command("axes_reset_username", "honbu")

    response = login(client, "honbu", "correct-horse-battery", REMOTE_ADDR="203.0.113.66")
    assert response.status_code == 302
