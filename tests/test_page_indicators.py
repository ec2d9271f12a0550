"""Indicator list and comparison: one indicator, one year, every visible branch ranked."""

import pytest

from tests import factories
from tests.factories_pages import BranchPlanFactory, indicator, plan_year

pytestmark = pytest.mark.django_db


def kpi_of(code, actual, *, target="50%以上", ind=None, year=2023, average="55.0%", rank=None):
    fiscal_year = factories.FiscalYearFactory(start_year=year)
    branch = factories.branch(code)
    BranchPlanFactory(branch=branch, fiscal_year=fiscal_year)
    measure = factories.MeasureFactory(branch=branch, fiscal_year=fiscal_year, title="健診の推進")
    return factories.KpiFactory(
        measure=measure,
        indicator=ind,
        target_text=target,
        actual_text=actual,
        national_average_text=average,
        national_rank=rank,
    )


def ranking(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return [(item.rank, item.kpi.branch.code) for item in response.context["ranked"]]


def test_higher_is_better_ranks_the_highest_first_ties_share_and_blanks_come_last(client, admin):
    checkups = indicator(100, direction="higher", name="生活習慣病予防健診実施率")
    kpi_of("11", "42.6%", ind=checkups)
    kpi_of("12", "55.0%", ind=checkups)
    kpi_of("10", "55.0%", ind=checkups)
    kpi_of("13", "—", ind=checkups)
    kpi_of("14", "61.2%", ind=checkups)
    client.force_login(admin)
    url = f"/indicators/{checkups.slug}/2023/"
    assert ranking(client, url) == [(1, "14"), (2, "10"), (2, "12"), (4, "11"), (None, "13")]
    text = client.get(url).content.decode()
    assert "生活習慣病予防健診実施率" in text and "令和5年度 (2023)" in text
    assert "高いほど良い指標のため、実績の高い順に並べています。" in text
    assert 'href="/branches/14/2023/"' in text
    assert "<svg" in text and "全国平均 55.0%" in text


def test_lower_is_better_ranks_the_lowest_first(client, admin):
    single_bids = indicator(101, direction="lower", name="一者応札案件の割合")
    kpi_of("11", "6.7%", target="20%以下", ind=single_bids)
    kpi_of("12", "12.0%", target="20%以下", ind=single_bids)
    kpi_of("10", "3.1%", target="20%以下", ind=single_bids)
    client.force_login(admin)
    assert ranking(client, f"/indicators/{single_bids.slug}/2023/") == [
        (1, "10"),
        (2, "11"),
        (3, "12"),
    ]


def test_comparison_shows_targets_achieved_average_and_national_rank(client, admin):
    ind = indicator(102, direction="higher")
    kpi_of("11", "97.1%", target="96.5%以上", ind=ind, rank=3)
    client.force_login(admin)
    text = client.get(f"/indicators/{ind.slug}/2023/").content.decode()
    assert "96.5%以上" in text
    assert "97.1%" in text
    assert "55.0%" in text
    assert "3位" in text
    assert "達成" in text
    assert "健診の推進" in text


def test_qualitative_indicator_is_listed_without_ranks(client, admin):
    ind = indicator(103, direction="qualitative")
    kpi_of("12", "実施", target="効果的な意見発信の実施", ind=ind)
    kpi_of("11", "実施", target="効果的な意見発信の実施", ind=ind)
    client.force_login(admin)
    assert ranking(client, f"/indicators/{ind.slug}/2023/") == [(None, "11"), (None, "12")]


def test_other_years_of_the_indicator_are_linked(client, admin):
    ind = indicator(104)
    kpi_of("11", "50%", ind=ind, year=2022)
    kpi_of("11", "52%", ind=ind, year=2023)
    client.force_login(admin)
    text = client.get(f"/indicators/{ind.slug}/2023/").content.decode()
    assert f'href="/indicators/{ind.slug}/2022/"' in text


def test_a_year_without_rows_says_so(client, admin):
    ind = indicator(105)
    kpi_of("11", "50%", ind=ind, year=2022)
    factories.FiscalYearFactory(start_year=2023)
    client.force_login(admin)
    response = client.get(f"/indicators/{ind.slug}/2023/")
    assert response.status_code == 200
    assert "KPIを閲覧できる支部はありません" in response.content.decode()


@pytest.mark.parametrize("url", ["/indicators/no-such/2023/", "/indicators/kyotsu-0/1999/"])
def test_unknown_indicator_or_year_is_404(client, admin, url):
    plan_year("11", 2023, measures=1, kpis=1)
    client.force_login(admin)
    assert client.get(url).status_code == 404


def test_indicator_list_links_each_year_with_the_number_of_branches(client, admin):
    plan_year("11", 2022, measures=1, kpis=1)
    plan_year("11", 2023, measures=1, kpis=1)
    plan_year("12", 2023, measures=1, kpis=1)
    client.force_login(admin)
    response = client.get("/indicators/")
    (entry,) = response.context["entries"]
    assert entry.indicator.name == "共通指標0"
    assert entry.years == [(2023, 2), (2022, 1)]
    text = response.content.decode()
    assert 'href="/indicators/kyotsu-0/2023/"' in text
    assert '令和5年度 (2023) <span class="small muted">2支部</span>' in text


def test_indicator_list_empty_state(client, council):
    client.force_login(council)
    text = client.get("/indicators/").content.decode()
    assert "比較できる指標はまだありません" in text
