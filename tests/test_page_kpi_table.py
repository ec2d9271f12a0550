"""The KPI table: every visible KPI row across branches and years, filtered and sorted."""

import pytest

from kpis.models import Kpi
from tests import factories
from tests.factories_pages import plan_year

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(client, admin):
    plan_year("11", 2022, measures=2, kpis=2)
    plan_year("11", 2023, measures=2, kpis=2)
    plan_year("12", 2023, measures=2, kpis=2)
    plan_year("01", 2023, measures=1, kpis=1)
    client.force_login(admin)
    return client


def shown(client, query=""):
    response = client.get(f"/kpis/{query}")
    assert response.status_code == 200
    return [row.record for row in response.context["table"].paginated_rows]


def test_lists_every_kpi_row_newest_year_first(reader):
    rows = shown(reader)
    assert len(rows) == Kpi.objects.count() == 13
    assert rows[0].fiscal_year.start_year == 2023
    assert rows[-1].fiscal_year.start_year == 2022


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?fiscal_year=2022", 4),
        ("?branch=12", 4),
        ("?region=hokkaido", 1),
        ("?pillar=2", 6),
        ("?group=保健G", 6),
        ("?indicator=kyotsu-1", 3),
        ("?mark=△", 3),
        ("?achieved=yes", 7),
        ("?achieved=no", 3),
        ("?achieved=unknown", 3),
        ("?important=yes", 7),
        ("?difficult=yes", 6),
        ("?difficult=no", 7),
        ("?fiscal_year=2023&branch=11&mark=○", 1),
    ],
)
def test_filters(reader, query, expected):
    assert len(shown(reader, query)) == expected


def test_free_text_searches_indicator_measure_and_texts(reader):
    assert len(shown(reader, "?q=共通指標3")) == 3
    assert len(shown(reader, "?q=R6.2現在")) == 3  # in the actual text
    assert len(shown(reader, "?q=千葉 共通指標0")) == 1


def test_invalid_filter_values_get_a_message_and_no_rows(reader):
    response = reader.get("/kpis/?fiscal_year=abc&mark=?")
    assert response.status_code == 200
    text = response.content.decode()
    assert "正しく選択してください" in text
    assert list(response.context["table"].paginated_rows) == []


def test_columns_sort(reader):
    by_rank = shown(reader, "?sort=-national_rank")
    ranks = [row.national_rank for row in by_rank]
    assert ranks == sorted(ranks, reverse=True)
    by_mark = shown(reader, "?sort=mark&fiscal_year=2023&branch=11")
    assert [row.mark for row in by_mark] == ["◎", "○", "△", "—"]
    by_actual = shown(reader, "?sort=-actual&fiscal_year=2023&branch=11")
    assert [row.actual_text for row in by_actual][-1] == "—"  # no value sorts last
    assert shown(reader, "?sort=nonsense")  # unknown columns are ignored


def test_pagination_keeps_filters_and_stays_in_range(client, admin):
    for year in range(2020, 2024):
        plan_year("11", year, measures=4, kpis=4)  # 64 rows
    client.force_login(admin)
    assert len(shown(client)) == 50
    assert len(shown(client, "?page=2")) == 14
    assert len(shown(client, "?page=99")) == 14  # last page
    assert len(shown(client, "?per_page=0")) == 50
    assert len(shown(client, "?per_page=-3")) == 1
    assert len(shown(client, "?per_page=100000")) == 64
    text = client.get("/kpis/?fiscal_year=2023&branch=11").content.decode()
    assert "16件" in text


def test_links_to_branch_pages_and_comparisons(reader):
    text = reader.get("/kpis/?fiscal_year=2023&branch=12").content.decode()
    assert 'href="/branches/12/2023/"' in text
    assert 'href="/indicators/kyotsu-0/2023/"' in text
    assert "<script" not in text


def test_empty_result_says_what_to_do(reader):
    text = reader.get("/kpis/?q=存在しない指標").content.decode()
    assert "条件に合うKPIはありません。条件を変えてください。" in text


def test_indicator_with_a_japanese_slug_filters(client, admin):
    measure = factories.MeasureFactory(fiscal_year__start_year=2023)
    indicator = factories.IndicatorFactory(name="生活習慣病予防健診実施率")
    factories.KpiFactory(measure=measure, indicator=indicator)
    client.force_login(admin)
    assert len(shown(client, f"?indicator={indicator.slug}")) == 1
