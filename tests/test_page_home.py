"""Home: a fiscal year's table of branches with counts of marks and the share achieved."""

import pytest

from kpis.models import BranchPlan
from tests.factories import FiscalYearFactory
from tests.factories_pages import plan_year

pytestmark = pytest.mark.django_db


def rows_of(response):
    return [row.record for row in response.context["table"].rows]


def test_home_shows_the_latest_year_with_era_and_western_year(client, admin):
    plan_year("11", 2022)
    plan_year("11", 2023)
    client.force_login(admin)
    page = client.get("/").content.decode()
    assert "令和5年度 (2023)" in page
    assert "令和4年度 (2022)" in page  # in the year picker


def test_counts_of_marks_and_share_achieved_per_branch(client, admin):
    # Each measure: activities ◎ ○; KPIs ○ ◎ △ — over two measures (see factories_pages).
    plan_year("11", 2023, measures=2, activities=2, kpis=2)
    client.force_login(admin)
    response = client.get("/?year=2023")
    (saitama,) = rows_of(response)
    assert saitama.branch.name == "埼玉支部"
    assert saitama.activity_marks.cells() == [("◎", 2), ("○", 2), ("△", 0), ("×", 0), ("—", 0)]
    assert saitama.kpi_marks.cells() == [("◎", 1), ("○", 1), ("△", 1), ("×", 0), ("—", 1)]
    assert (saitama.kpis_achieved, saitama.kpis_judged) == (2, 3)
    page = response.content.decode()
    assert "2 / 3" in page
    assert "67%" in page


def test_year_picker_switches_the_year(client, admin):
    plan_year("11", 2022, measures=1)
    plan_year("12", 2023, measures=1)
    client.force_login(admin)
    rows = rows_of(client.get("/?year=2022"))
    assert [row.branch.code for row in rows] == ["11"]
    assert client.get("/?year=2022").context["fiscal_year"].start_year == 2022


def test_region_block_filter(client, admin):
    plan_year("11", 2023, measures=1)  # 関東
    plan_year("01", 2023, measures=1)  # 北海道
    client.force_login(admin)
    assert [row.branch.code for row in rows_of(client.get("/?region=kanto"))] == ["11"]
    assert [row.branch.code for row in rows_of(client.get("/?region=hokkaido"))] == ["01"]
    page = client.get("/?region=kyushu").content.decode()
    assert "九州・沖縄に表示できる支部のデータはありません" in page


def test_table_sorts_by_share_achieved(client, admin):
    plan_year("11", 2023, measures=1, kpis=3)  # ○ ◎ △: 2 of 3
    plan_year("12", 2023, measures=1, kpis=1)  # ○: 1 of 1
    client.force_login(admin)
    ascending = rows_of(client.get("/?sort=achieved_share"))
    descending = rows_of(client.get("/?sort=-achieved_share"))
    assert [row.branch.code for row in ascending] == ["11", "12"]
    assert [row.branch.code for row in descending] == ["12", "11"]


def test_unknown_year_or_region_gets_a_message_not_an_error(client, admin):
    plan_year("11", 2023, measures=1)
    client.force_login(admin)
    response = client.get("/?year=abc&region=mars")
    assert response.status_code == 200
    page = response.content.decode()
    assert "年度「abc」は登録されていません。" in page
    assert "地域ブロック「mars」はありません。" in page
    assert [row.branch.code for row in rows_of(response)] == ["11"]


def test_no_year_at_all_explains_what_to_do(client, admin, council):
    client.force_login(admin)
    page = client.get("/").content.decode()
    assert "登録された年度はまだありません" in page
    assert "/admin/" in page or "取り込み画面" in page
    client.force_login(council)
    page = client.get("/").content.decode()
    assert "登録された年度はまだありません" in page
    assert "取り込み画面" not in page


def test_a_year_without_data_says_so(client, admin, council):
    FiscalYearFactory(start_year=2024)
    client.force_login(admin)
    page = client.get("/?year=2024").content.decode()
    assert "令和6年度 (2024)に表示できる支部のデータはありません" in page
    client.force_login(council)
    page = client.get("/?year=2024").content.decode()
    assert "公表されるとここに表示されます" in page


def test_council_counts_only_published_branches(client, council):
    plan_year("11", 2023, measures=1)
    plan_year("12", 2023, measures=2, status=BranchPlan.Status.SUBMITTED)
    client.force_login(council)
    response = client.get("/?year=2023")
    assert [row.branch.code for row in rows_of(response)] == ["11"]
    assert response.context["totals"].total == 4  # 2 activities + 2 KPIs of 埼玉 only
