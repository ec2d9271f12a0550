"""One year label on the reading pages: 令和5年度 (2023) — the era name and the western year —
in the home page's year choices, the KPI table's year column and filter, and the indicator
list's and the comparison page's year links; never 2023年度 alone."""

import re

import pytest
from django.utils.html import strip_tags

from kpis.models import Indicator
from tests.factories_pages import plan_year

pytestmark = pytest.mark.django_db

LABEL = "令和5年度 (2023)"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", strip_tags(html))


@pytest.fixture
def reader(client, council):
    plan_year("11", 2022, measures=1, kpis=1)
    plan_year("11", 2023, measures=1, kpis=1)
    client.force_login(council)
    return client


def test_home_names_the_years_with_both_labels(reader):
    response = reader.get("/?year=2023")
    assert [year.label for year in response.context["years"]][:2] == [
        LABEL,
        "令和4年度 (2022)",
    ]
    text = text_of(response.content.decode())
    assert f"年度 {LABEL}" in text
    assert "2023年度" not in text


def test_kpi_table_year_column_and_filter_say_the_same_label(reader):
    response = reader.get("/kpis/?fiscal_year=2023")
    cells = [text_of(row.get_cell("fiscal_year")) for row in response.context["table"].rows]
    assert cells and set(cells) == {LABEL}
    choices = dict(response.context["filter"].form.fields["fiscal_year"].choices)
    assert choices[2023] == LABEL
    assert "2023年度" not in text_of(response.content.decode())


def test_indicator_list_links_each_year_by_its_label(reader):
    text = text_of(reader.get("/indicators/").content.decode())
    assert f"{LABEL} 1支部" in text
    assert "令和4年度 (2022) 1支部" in text
    assert "2023年度" not in text


def test_comparison_page_links_each_year_by_its_label(reader):
    slug = Indicator.objects.get().slug
    html = reader.get(f"/indicators/{slug}/2023/").content.decode()
    links = re.findall(r'<a href="/indicators/[^"]+/(\d{4})/"[^>]*>([^<]+)</a>', html)
    assert links == [("2023", LABEL), ("2022", "令和4年度 (2022)")]
