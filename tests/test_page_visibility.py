"""Who reads what on every reading page (rules in kpis/access.py).

埼玉 FY2023 is published; 千葉 FY2023 is submitted (not published); 埼玉 FY2024 is a draft.
"""

import pytest

from kpis.models import BranchPlan
from tests.factories_pages import plan_year

pytestmark = pytest.mark.django_db

PUBLISHED = "/branches/11/2023/"
OTHERS_UNPUBLISHED = "/branches/12/2023/"
OWN_DRAFT = "/branches/11/2024/"

PAGES = [
    "/",
    "/?year=2023",
    PUBLISHED,
    "/branches/11/",
    "/kpis/",
    "/kpis/?export=csv",
    "/kpis/?export=xlsx",
    "/indicators/",
    "/indicators/kyotsu-0/2023/",
]


@pytest.fixture(autouse=True)
def plans(db):
    plan_year("11", 2023, measures=1, kpis=1)
    plan_year("12", 2023, measures=1, kpis=1, status=BranchPlan.Status.SUBMITTED)
    plan_year("11", 2024, measures=1, kpis=1, status=BranchPlan.Status.DRAFT)


def branches_on_home(client, year):
    return [row.record.branch.code for row in client.get(f"/?year={year}").context["table"].rows]


def kpi_rows(client):
    rows = client.get("/kpis/").context["table"].paginated_rows
    return sorted((row.record.branch.code, row.record.fiscal_year.start_year) for row in rows)


def compared(client, year=2023):
    ranked = client.get(f"/indicators/kyotsu-0/{year}/").context["ranked"]
    return sorted(item.kpi.branch.code for item in ranked)


@pytest.mark.parametrize("url", [*PAGES, OTHERS_UNPUBLISHED, OWN_DRAFT, "/branches/99/2023/"])
def test_anonymous_visitors_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", PAGES)
def test_every_page_opens_for_every_role(client, admin, council, staff_11, url):
    for user in (admin, council, staff_11):
        client.force_login(user)
        assert client.get(url).status_code in (200, 302), (user, url)


class TestPublicAchievementPages:
    @pytest.fixture(autouse=True)
    def public(self, settings):
        settings.PUBLIC_ACHIEVEMENT_PAGES = True

    def test_anonymous_reads_published_pages_only(self, client):
        assert client.get(PUBLISHED).status_code == 200
        assert client.get(OTHERS_UNPUBLISHED).status_code == 404
        assert client.get(OWN_DRAFT).status_code == 404

    def test_aggregates_count_published_rows_only(self, client):
        assert branches_on_home(client, 2023) == ["11"]
        assert kpi_rows(client) == [("11", 2023)]
        assert compared(client) == ["11"]
        assert client.get("/indicators/").context["entries"][0].years == [(2023, 1)]


def test_council_reads_published_years_only(client, council):
    client.force_login(council)
    assert client.get(PUBLISHED).status_code == 200
    assert client.get(OTHERS_UNPUBLISHED).status_code == 404
    assert client.get(OWN_DRAFT).status_code == 404
    assert branches_on_home(client, 2023) == ["11"]
    assert branches_on_home(client, 2024) == []
    assert kpi_rows(client) == [("11", 2023)]
    assert compared(client) == ["11"]
    assert client.get("/kpis/?export=csv").content.decode().count("埼玉支部") == 1
    assert "千葉支部" not in client.get("/kpis/?export=csv").content.decode()


def test_council_sees_no_link_or_trend_from_unpublished_years(client, council):
    client.force_login(council)
    text = client.get(PUBLISHED).content.decode()
    assert 'href="/branches/11/2024/"' not in text
    assert client.get("/branches/11/")["Location"] == PUBLISHED


def test_branch_member_reads_own_branch_in_any_state_and_published_others(
    client, staff_11, manager_11, staff_12
):
    for member in (staff_11, manager_11):
        client.force_login(member)
        assert client.get(OWN_DRAFT).status_code == 200
        assert client.get(PUBLISHED).status_code == 200
        assert client.get(OTHERS_UNPUBLISHED).status_code == 404
        assert kpi_rows(client) == [("11", 2023), ("11", 2024)]
        assert 'href="/branches/11/2024/"' in client.get(PUBLISHED).content.decode()
    client.force_login(staff_12)
    assert client.get(OTHERS_UNPUBLISHED).status_code == 200
    assert client.get(OWN_DRAFT).status_code == 404
    assert branches_on_home(client, 2023) == ["11", "12"]
    assert compared(client) == ["11", "12"]


def test_admin_reads_everything(client, admin):
    client.force_login(admin)
    for url in (PUBLISHED, OTHERS_UNPUBLISHED, OWN_DRAFT):
        assert client.get(url).status_code == 200
    assert kpi_rows(client) == [("11", 2023), ("11", 2024), ("12", 2023)]
    assert branches_on_home(client, 2024) == ["11"]


def test_unpublished_and_unknown_look_the_same(client, council):
    client.force_login(council)
    unpublished = client.get(OTHERS_UNPUBLISHED)
    unknown = client.get("/branches/11/2030/")
    assert unpublished.status_code == unknown.status_code == 404
