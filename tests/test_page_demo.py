"""The reading pages on the demo data (imports/demo: the Saitama, Chiba and Gunma documents).

The demo is loaded once for the module inside a transaction that is rolled back at the end;
each test runs in a savepoint within it.
"""

import pytest

from kpis.models import Indicator
from tests.test_page_queries import PAGES
from tests.test_publication_queries import PAGES as SNAPSHOT_PAGES

# The demo publishes through snapshots: council members read the branch page's snapshot.
SNAPSHOT_COUNCIL_QUERIES = {url: council for url, _, council, _ in SNAPSHOT_PAGES}

# Counts of marks in 埼玉支部 令和5年度 実施状況（概要版）: every activity and KPI row.
SAITAMA_2023_MARKS = [("◎", 5), ("○", 87), ("△", 8), ("×", 1), ("—", 2)]


@pytest.fixture(scope="module", autouse=True)
def demo_loaded(demo):
    """The demo data for every test of the module (conftest.demo)."""


@pytest.fixture
def as_council(client, council):
    client.force_login(council)
    return client


@pytest.fixture
def as_admin(client, admin):
    client.force_login(admin)
    return client


def test_saitama_2023_shows_the_published_counts_of_marks(as_council):
    response = as_council.get("/branches/11/2023/")
    report = response.context["report"]
    assert report.marks.cells() == SAITAMA_2023_MARKS
    assert (report.activity_marks.total, report.kpi_marks.total) == (84, 19)
    text = response.content.decode()
    assert "令和5年度 埼玉支部事業計画 実施状況" in text
    assert "(1)</span> 健全な財政運営" in text
    assert "0.94%以下" in text and "（R6.2現在）" in text
    assert "8,364円以上" in text and "10,123円" in text


def test_gunma_2023_shows_national_ranks_monthly_series_and_baselines(as_council):
    response = as_council.get("/branches/10/2023/")
    text = response.content.decode()
    for rank in ("46位", "47位", "34位", "38位", "20位", "32位"):
        assert rank in text
    assert "月次実績（令和5年度）" in text
    assert "94.6%" in text  # 郵送化率 4月
    assert "評価の基準：0.191%（前年度実績）" in text  # 査定率 対前年度以上
    # The branch wrote ○ where the rule says ◎: a note for the branch, not for the council.
    assert "自動判定：◎" not in text


def test_chiba_2024_draft_shows_relative_targets_without_a_baseline_yet(as_admin):
    text = as_admin.get("/branches/12/2024/").content.decode()
    assert "作成中" in text
    assert "対前年度以上" in text
    assert "評価の基準：未確定（実績の登録後に決まります）" in text
    assert "重要度：高" in text and "困難度：高" in text


def test_chiba_links_its_published_years(as_council):
    text = as_council.get("/branches/12/2023/").content.decode()
    assert 'href="/branches/12/2022/"' in text
    assert 'href="/branches/12/2024/"' not in text  # the FY2024 draft is not published


def test_council_cannot_open_drafts(as_council):
    assert as_council.get("/branches/12/2024/").status_code == 404
    assert as_council.get("/branches/10/2022/").status_code == 404


def test_home_2023_lists_the_three_branches(as_council):
    response = as_council.get("/?year=2023")
    rows = {row.record.branch.code: row.record for row in response.context["table"].rows}
    assert set(rows) == {"10", "11", "12"}
    assert rows["11"].marks.cells() == SAITAMA_2023_MARKS


def test_kpi_table_lists_published_rows_for_the_council_and_all_for_admins(as_council, admin):
    assert as_council.get("/kpis/").context["table"].paginator.count == 70
    rows = as_council.get("/kpis/?branch=10&fiscal_year=2023&sort=national_rank")
    ranks = [row.record.national_rank for row in rows.context["table"].paginated_rows]
    assert ranks[:6] == [20, 32, 34, 38, 46, 47]
    as_council.force_login(admin)
    assert as_council.get("/kpis/").context["table"].paginator.count == 98


def test_generics_comparison_ranks_the_branches(as_council):
    indicator_list = as_council.get("/indicators/").context["entries"]
    generics = next(
        e.indicator for e in indicator_list if e.indicator.name == "ジェネリック医薬品使用割合"
    )
    response = as_council.get(f"/indicators/{generics.slug}/2023/")
    ranked = [(item.rank, item.kpi.branch.code) for item in response.context["ranked"]]
    assert ranked[0] == (1, "11")  # 埼玉 82.9%
    assert {code for _, code in ranked} == {"10", "11", "12"}
    assert 'href="/branches/11/2023/"' in response.content.decode()


@pytest.mark.parametrize(("url", "admin_queries", "council_queries", "member_queries"), PAGES)
def test_query_counts_on_the_demo_data_are_those_of_the_factories(
    client,
    django_assert_num_queries,
    admin,
    council,
    url,
    admin_queries,
    council_queries,
    member_queries,
):
    generics = Indicator.objects.get(name="ジェネリック医薬品使用割合")
    council_queries = SNAPSHOT_COUNCIL_QUERIES.get(url, council_queries)
    url = url.format(indicator=generics.slug, word="率")
    for user, queries in ((admin, admin_queries), (council, council_queries)):
        client.force_login(user)
        with django_assert_num_queries(queries):
            assert client.get(url).status_code in (200, 302)
