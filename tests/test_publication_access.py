"""Who reads the plan page and the branch page of 埼玉 FY2023 as its two documents are
published: nothing published, the plan published (事業計画の公表), the results published,
the results reopened (公表の取り消し). Council members and other branches read a document
once published; the results stay readable while reopened; 埼玉's members and admins read
everything. Anonymous visitors read as council members do when the pages are public."""

import pytest
from django.test import Client

from kpis.models import BranchPlan
from tests.factories_pages import plan_year

pytestmark = pytest.mark.django_db

PLAN_PAGE, BRANCH_PAGE = "/branches/11/2023/plan/", "/branches/11/2023/"
ROLES = ("council", "staff_12", "staff_11", "manager_11", "admin", "public")

# State → (plan page, branch page) status for each role, in ROLES order.
EXPECTED = {
    "nothing": {
        PLAN_PAGE: (404, 404, 200, 200, 200, 404),
        BRANCH_PAGE: (404, 404, 200, 200, 200, 404),
    },
    "plan": {
        PLAN_PAGE: (200, 200, 200, 200, 200, 200),
        BRANCH_PAGE: (404, 404, 200, 200, 200, 404),
    },
    "results": {
        PLAN_PAGE: (200, 200, 200, 200, 200, 200),
        BRANCH_PAGE: (200, 200, 200, 200, 200, 200),
    },
    "reopened": {
        PLAN_PAGE: (200, 200, 200, 200, 200, 200),
        BRANCH_PAGE: (200, 200, 200, 200, 200, 200),
    },
}


def act(user, name, reason=""):
    client = Client()
    client.force_login(user)
    assert client.post(f"/entry/11/2023/workflow/{name}/", {"reason": reason}).status_code == 302


@pytest.fixture
def cast(council, staff_12, staff_11, manager_11, admin):
    return dict(zip(ROLES, (council, staff_12, staff_11, manager_11, admin, None), strict=True))


def reach(state, cast):
    plan_year("11", 2023, status=BranchPlan.Status.SUBMITTED, measures=1, activities=1, kpis=1)
    if state == "plan":
        act(cast["admin"], "publish_plan")
    if state in ("results", "reopened"):
        act(cast["admin"], "publish")
    if state == "reopened":
        act(cast["admin"], "reopen", "実績の訂正のため")


@pytest.mark.parametrize("state", EXPECTED)
def test_who_reads_which_document(settings, cast, state):
    settings.PUBLIC_ACHIEVEMENT_PAGES = True
    reach(state, cast)
    for url, statuses in EXPECTED[state].items():
        got = []
        for role in ROLES:
            client = Client()
            if cast[role] is not None:
                client.force_login(cast[role])
            got.append(client.get(url).status_code)
        assert tuple(got) == statuses, f"{state} {url}"


def test_anonymous_reads_nothing_unless_pages_are_public(client, cast):
    reach("results", cast)
    for url in (PLAN_PAGE, BRANCH_PAGE):
        assert client.get(url).status_code == 302  # to the login page


def test_withdrawn_plan_is_hidden_again(client, cast):
    reach("plan", cast)
    act(cast["admin"], "withdraw_plan", "計画の誤記のため")
    client.force_login(cast["council"])
    assert client.get(PLAN_PAGE).status_code == 404


def test_reopened_year_leaves_the_lists_until_published_again(client, cast):
    """Only the branch page keeps a reopened year: the KPI table lists what is published now."""
    reach("reopened", cast)
    client.force_login(cast["council"])
    assert "共通指標0" not in client.get("/kpis/").content.decode()
    assert "再確認中" in client.get(BRANCH_PAGE).content.decode()


def test_pages_link_to_each_other(client, cast):
    reach("results", cast)
    client.force_login(cast["council"])
    assert PLAN_PAGE in client.get(BRANCH_PAGE).content.decode()
    assert f'href="{BRANCH_PAGE}"' in client.get(PLAN_PAGE).content.decode()
