"""A logged-in user with no role (no group, no branch) sees one page: that they have no role
yet and whom to ask. Published pages stay closed to them until a role is set.
(Every URL pattern is covered for this user in test_access_rules.py.)"""

import pytest

from tests import factories
from tests.factories_pages import plan_year

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer():
    return factories.UserFactory(username="newcomer")


def test_after_logging_in_a_user_without_a_role_is_told_whom_to_ask(client, newcomer):
    plan_year("11", 2023)  # published
    response = client.post(
        "/accounts/login/",
        {"username": "newcomer", "password": "correct-horse-battery"},
        follow=True,
    )
    text = response.content.decode()
    assert response.status_code == 403
    assert "まだ役割が設定されていません" in text
    assert "本部管理者に、役割" in text
    assert "ログアウト" in text
    assert 'href="/kpis/"' not in text  # no menu to pages they cannot open


@pytest.mark.parametrize(
    "url", ["/branches/11/2023/", "/kpis/", "/kpis/?export=csv", "/indicators/kyotsu-0/2023/"]
)
def test_published_pages_show_nothing_but_the_no_role_page(client, newcomer, url):
    plan_year("11", 2023)
    client.force_login(newcomer)
    response = client.get(url)
    assert response.status_code == 403
    text = response.content.decode()
    assert "まだ役割が設定されていません" in text
    assert "共通指標0" not in text and "埼玉" not in text


def test_public_pages_setting_does_not_open_them_to_a_user_without_a_role(
    client, settings, newcomer
):
    settings.PUBLIC_ACHIEVEMENT_PAGES = True
    plan_year("11", 2023)
    client.force_login(newcomer)
    assert client.get("/branches/11/2023/").status_code == 403


def test_once_a_role_is_set_the_pages_open(client, newcomer):
    plan_year("11", 2023)
    client.force_login(newcomer)
    assert client.get("/branches/11/2023/").status_code == 403
    factories.MembershipFactory(user=newcomer)
    assert client.get("/branches/11/2023/").status_code == 200
