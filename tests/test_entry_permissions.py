"""Who may open and act on the entry pages: the permission matrix over every entry URL and
action, for anonymous, council, staff and manager of 埼玉 (11), staff of 千葉 (12), admin."""

import logging

import pytest

from kpis.entry.services import history_stamp
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db

USERS = ["anonymous", "council", "staff_11", "manager_11", "staff_12", "admin"]

# (name, method, path, data, expected status per user in USERS order). 302 for anonymous is
# the login redirect; 302 for others is "done, back to the page".
MATRIX = [
    ("index", "get", "/entry/", None, [302, 403, 302, 302, 302, 200]),
    ("grid", "get", "/entry/11/2023/", None, [302, 403, 200, 200, 403, 200]),
    ("grid save", "post", "/entry/11/2023/", "grid", [302, 403, 302, 302, 403, 302]),
    ("history", "get", "/entry/11/2023/history/", None, [302, 403, 200, 200, 403, 200]),
    ("kpi", "get", "/entry/11/2023/kpi/{pk}/", None, [302, 403, 200, 200, 403, 200]),
    ("cell", "get", "/entry/11/2023/kpi/{pk}/4/", None, [302, 403, 200, 200, 403, 200]),
    ("cell save", "post", "/entry/11/2023/kpi/{pk}/4/", "cell", [302, 403, 302, 302, 403, 302]),
    (
        "comment",
        "post",
        "/entry/11/2023/kpi/{pk}/4/comment/",
        {"body": "4月は健診機関の休業で減少"},
        [302, 403, 302, 302, 403, 302],
    ),
    ("actual", "post", "/entry/11/2023/kpi/{pk}/actual/", "stamp", [302, 403, 403, 302, 403, 302]),
    ("mark", "post", "/entry/11/2023/kpi/{pk}/mark/", "mark", [302, 403, 403, 302, 403, 302]),
    (
        "mark reset",
        "post",
        "/entry/11/2023/kpi/{pk}/mark/",
        "computed",
        [302, 403, 403, 302, 403, 302],
    ),
    ("submit", "post", "/entry/11/2023/workflow/submit/", {}, [302, 403, 403, 302, 403, 403]),
    ("withdraw", "post", "/entry/11/2023/workflow/withdraw/", {}, [302, 403, 403, 302, 403, 403]),
    ("return", "post", "/entry/11/2023/workflow/return/", {}, [302, 403, 403, 403, 403, 302]),
    ("publish", "post", "/entry/11/2023/workflow/publish/", {}, [302, 403, 403, 403, 403, 302]),
    ("reopen", "post", "/entry/11/2023/workflow/reopen/", {}, [302, 403, 403, 403, 403, 302]),
]

CASES = [
    pytest.param(name, method, path, data, user, status, id=f"{name}-{user}")
    for name, method, path, data, statuses in MATRIX
    for user, status in zip(USERS, statuses, strict=True)
]


@pytest.fixture
def kpi_11(db):
    k = fe.kpi()
    fe.value(k, 4, "90%")
    return k


def _data(kind, kpi):
    if kind == "grid":
        return fe.grid_data([kpi], {(kpi, 5): "91%"})
    if kind == "cell":
        return {"text": "92%", "version": 1, "reason": ""}
    if kind == "stamp":
        return {"stamp": history_stamp(kpi)}
    if kind == "mark":
        return {"stamp": history_stamp(kpi), "mark": "◎", "reason": "評議会で説明済み"}
    if kind == "computed":
        return {"stamp": history_stamp(kpi), "computed": "1"}
    return kind


@pytest.mark.parametrize(("name", "method", "path", "data", "user", "status"), CASES)
def test_permission_matrix(request, client, kpi_11, name, method, path, data, user, status):
    if user != "anonymous":
        client.force_login(request.getfixturevalue(user))
    url = path.format(pk=kpi_11.pk)
    response = client.get(url) if method == "get" else client.post(url, _data(data, kpi_11))
    assert response.status_code == status
    if user == "anonymous":
        assert response["Location"].startswith("/accounts/login/")


def test_refusal_is_logged_with_user_branch_and_path(client, staff_12, kpi_11, caplog):
    client.force_login(staff_12)
    with caplog.at_level(logging.WARNING, logger="kpis.entry"):
        response = client.get("/entry/11/2023/")
    assert response.status_code == 403
    assert "この支部の月次入力ページは開けません。" in response.content.decode()
    record = next(r for r in caplog.records if r.name == "kpis.entry")
    assert record.levelno == logging.WARNING
    assert "user=staff12" in record.getMessage()
    assert "branch=11" in record.getMessage()
    assert "path=/entry/11/2023/" in record.getMessage()


def test_other_branch_cannot_write_by_posting(client, staff_12, kpi_11):
    client.force_login(staff_12)
    client.post("/entry/11/2023/", fe.grid_data([kpi_11], {(kpi_11, 4): "10%"}))
    assert kpi_11.monthly_values.get(month=4).text == "90%"


def test_branch_member_is_sent_to_own_branch_latest_open_year(client, staff_12, kpi_11):
    fe.fiscal_year(2024)
    fe.fiscal_year(2025, status="closed")
    client.force_login(staff_12)
    assert client.get("/entry/")["Location"] == "/entry/12/2024/"


def test_admin_chooses_branch_and_year(client, admin, kpi_11):
    client.force_login(admin)
    page = client.get("/entry/").content.decode()
    assert "埼玉支部" in page and "令和5年度 (2023)" in page
    assert client.get("/entry/", {"branch": "12", "year": "2023"})["Location"] == "/entry/12/2023/"
    unknown = client.get("/entry/", {"branch": "99", "year": "1999"})
    assert "その支部・年度はありません。" in unknown.content.decode()


def test_member_without_open_year_sees_the_years_to_read(client, staff_11, kpi_11):
    fe.fiscal_year(2023, status="closed")
    client.force_login(staff_11)
    response = client.get("/entry/")
    assert response.status_code == 200
    assert "入力を受け付けている年度はありません" in response.content.decode()


def test_entry_link_in_the_navigation_only_for_members_and_admins(client, council, staff_11):
    fe.fiscal_year(2023)
    client.force_login(staff_11)
    assert 'href="/entry/"' in client.get("/").content.decode()
    client.force_login(council)
    assert 'href="/entry/"' not in client.get("/").content.decode()
