"""/entry/ sends a branch member to the year they can enter into — an open year with the
branch's KPIs whose plan is not yet submitted or published — and a year without KPIs
says what to do, who to ask, and where the KPIs are."""

import pytest

from kpis.models import BranchPlan
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db


def landing(client, user):
    client.force_login(user)
    return client.get("/entry/")["Location"]


def plan(year, status):
    BranchPlan.objects.create(branch=year.kpis.first().branch, fiscal_year=year, status=status)


def test_a_newer_open_year_without_kpis_is_not_where_a_member_lands(client, staff_11):
    fe.kpi(year=2023)
    fe.fiscal_year(2024)
    assert landing(client, staff_11) == "/entry/11/2023/"


def test_a_published_year_gives_way_to_an_open_year_still_being_entered(client, staff_11):
    older, newer = fe.kpi(year=2022), fe.kpi(year=2023)
    plan(newer.fiscal_year, BranchPlan.Status.PUBLISHED)
    assert landing(client, staff_11) == "/entry/11/2022/"
    plan(older.fiscal_year, BranchPlan.Status.SUBMITTED)
    # Nothing left to enter: the latest open year with KPIs, to read.
    assert landing(client, staff_11) == "/entry/11/2023/"


def test_closed_years_are_never_the_landing_year(client, staff_11):
    fe.kpi(year=2022)
    fe.kpi(year=2023)
    fe.fiscal_year(2023, status="closed")
    assert landing(client, staff_11) == "/entry/11/2022/"


def test_an_empty_year_says_who_imports_the_kpis_and_links_the_years_with_kpis(client, staff_11):
    fe.kpi(year=2022)
    fe.fiscal_year(2024)
    client.force_login(staff_11)
    page = client.get("/entry/11/2024/").content.decode()
    assert "埼玉支部の令和6年度 (2024)のKPIはまだ登録されていません。" in page
    assert "本部管理者にKPIのワークブックの取り込みを依頼してください" in page
    assert 'KPIが登録されている年度: <a href="/entry/11/2022/">令和4年度 (2022)</a></p>' in page


def test_an_admin_on_an_empty_year_is_sent_to_the_import(client, admin):
    fe.fiscal_year(2024)
    client.force_login(admin)
    page = client.get("/entry/11/2024/").content.decode()
    assert '<a href="/imports/">取り込み</a>から登録してください' in page
    assert "埼玉支部のKPIはどの年度にもまだ登録されていません。" in page
