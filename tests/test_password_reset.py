"""Password reset by e-mail (Django's views, Japanese pages): the mail goes through the task
queue once the request commits, and its link sets a new password once."""

import re

import pytest

from tests import factories

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)")
NEW_PASSWORD = "aozora-hoken-2025"


@pytest.fixture
def person(db):
    return factories.UserFactory(
        username="staff11", email="staff11@example.jp", last_name="埼玉", first_name="担当者"
    )


def ask_for_reset(client, email, capture):
    with capture(execute=True):
        response = client.post("/accounts/password_reset/", {"email": email})
    assert response.status_code == 302
    return client.get(response["Location"])


def set_password(client, link):
    form = client.get(link, follow=True)
    return form, client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link,
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )


def logs_in(client, password) -> bool:
    client.logout()
    client.post("/accounts/login/", {"username": "staff11", "password": password})
    return "_auth_user_id" in client.session


def test_the_mail_is_sent_and_its_link_works_once(
    client, person, mailoutbox, django_capture_on_commit_callbacks
):
    done = ask_for_reset(client, "STAFF11@example.jp", django_capture_on_commit_callbacks)

    assert "メールを送りました" in done.content.decode()
    assert [mail.to for mail in mailoutbox] == [["staff11@example.jp"]]
    mail = mailoutbox[0]
    assert mail.subject == "[支部KPI管理] パスワードの再設定"
    assert "埼玉 担当者 様" in mail.body and "ログインID: staff11" in mail.body
    link = LINK.search(mail.body).group(1)

    form, response = set_password(client, link)
    assert "新しいパスワードの設定" in form.content.decode()
    assert response.status_code == 302 and response["Location"] == "/accounts/reset/done/"
    assert logs_in(client, NEW_PASSWORD)

    client.logout()
    again = client.get(link, follow=True).content.decode()
    assert "このリンクは使えません" in again
    assert 'name="new_password1"' not in again


def test_an_unknown_address_gets_the_same_page_and_no_mail(
    client, person, mailoutbox, django_capture_on_commit_callbacks
):
    done = ask_for_reset(client, "nobody@example.jp", django_capture_on_commit_callbacks)

    assert "メールを送りました" in done.content.decode()
    assert mailoutbox == []


def test_the_mail_waits_for_the_queue_not_the_request(client, person, mailoutbox):
    # Without the commit (the test's transaction never commits), nothing is sent yet.
    client.post("/accounts/password_reset/", {"email": "staff11@example.jp"})

    assert mailoutbox == []


def test_someone_the_import_created_sets_a_first_password(
    client, person, mailoutbox, django_capture_on_commit_callbacks
):
    person.set_unusable_password()
    person.save()

    ask_for_reset(client, "staff11@example.jp", django_capture_on_commit_callbacks)
    set_password(client, LINK.search(mailoutbox[0].body).group(1))

    assert logs_in(client, NEW_PASSWORD)
