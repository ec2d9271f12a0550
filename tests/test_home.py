import pytest

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_login_page_is_japanese(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "ログイン" in response.content.decode()
