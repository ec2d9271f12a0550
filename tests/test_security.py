"""Hardening a user or an auditor would notice: login throttling, CSP, password rules."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def attempt_login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_login_is_locked_after_five_wrong_passwords(client):
    UserFactory(username="tanaka")
    for _ in range(5):
        response = attempt_login(client, "tanaka", "wrong-password")
    assert response.status_code == 429
    assert "ログインを一時停止しています" in response.content.decode()
    # Even the right password is refused while the lockout lasts.
    response = attempt_login(client, "tanaka", "correct-horse-battery")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_right_password_logs_in_and_clears_earlier_failures(client):
    UserFactory(username="suzuki")
    for _ in range(3):
        attempt_login(client, "suzuki", "wrong-password")
    response = attempt_login(client, "suzuki", "correct-horse-battery")
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def test_pages_send_a_content_security_policy_without_inline_scripts(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "<script>" not in response.content.decode()


@pytest.mark.parametrize("password", ["short1", "password123", "12345678901", "saitama-staff"])
def test_weak_passwords_are_refused(password):
    user = UserFactory.build(username="saitama-staff")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_long_unusual_password_is_accepted():
    validate_password("kumagaya-hanamizuki-2024", UserFactory.build(username="x"))


def test_unknown_pages_get_a_japanese_404(client, admin):
    client.force_login(admin)
    response = client.get("/branches/99/2023/")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.content.decode()
