"""The plan page on the demo data: Chiba's 令和6年度 事業計画（案） (seed 002), published to the
council as a plan while its results stay a draft, with the KPI list's multi-year table
(令和4年度実績 / 令和5年度目標 / 令和6年度目標) and 【新設】 as a badge beside the KPI.

The demo is loaded once for the module inside a transaction rolled back at the end.
"""

import re
from html import unescape

import pytest

URL = "/branches/12/2024/plan/"

# Rows of seed 002's KPI list: KPI → (R4年度実績, R5年度KPI, R6年度KPI) as the seed writes them.
SEED_002_ROWS = {
    "サービススタンダード達成率": ("100%", "100%", "100%"),
    "現金給付等の申請に係る郵送化率": ("96.1%", "96.4%以上", "対前年度以上"),
    "再審査レセプト1件当たり査定額": ("8,167円", "対前年度以上", "対前年度以上"),
    "資格喪失後1か月以内の保険証回収率": ("85.45%", "対前年度以上", "対前年度以上"),
    "生活習慣病予防健診実施率": ("62.9%", "64.2%以上", "55.8%以上"),
    "事業者健診データ取得率": ("3.6%", "8.2%以上", "3.7%以上"),
    "被扶養者の特定健診実施率": ("24.7%", "36.4%以上", "28.3%以上"),
    "被保険者の特定保健指導実施率": ("14.1%", "35.6%以上", "19.4%以上"),
    "被扶養者の特定保健指導実施率": ("4.2%", "16.2%以上", "5.5%以上"),
    "ジェネリック医薬品使用割合": ("81.9%", "対前年度以上", "対前年度以上"),
    "健康保険委員委嘱事業所の被保険者割合": ("37.6%", "40.0%", "42.5%以上"),
    "一般競争入札に占める一者応札案件の割合": ("12.5%", "20%以下", "15%以下"),
}
NEW_KPIS = ["協会のレセプト点検の査定率", "返納金債権の回収率（不当請求除く）"]


@pytest.fixture(scope="module", autouse=True)
def demo_loaded(demo):
    """The demo data for every test of the module (conftest.demo)."""


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def kpi_list(html: str) -> tuple[list[str], dict[str, list[str]]]:
    """The KPI lists' headings and, per KPI, its cells (as text) and badges."""
    headings, rows = [], {}
    for table in re.findall(r'<table class="kpis plan-kpi-table">(.*?)</table>', html, re.S):
        headings = [text_of(th) for th in re.findall(r"<th[^>]*>(.*?)</th>", table, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            if len(cells) < 3:
                continue
            name_cell = cells[1]
            badges = re.findall(r'<span class="badge[^"]*">(.*?)</span>', name_cell)
            name = text_of(re.sub(r"<span class=\"badge.*?</span>", "", name_cell))
            rows[name] = {"cells": [text_of(cell) for cell in cells], "badges": badges}
    return headings, rows


@pytest.fixture
def page(client, council):
    client.force_login(council)
    response = client.get(URL)
    assert response.status_code == 200
    return response


def test_title_is_the_plan_not_its_results(page):
    html = page.content.decode()
    (heading,) = re.findall(r"<h1>(.*?)</h1>", html, re.S)
    assert "令和6年度 千葉支部事業計画" in text_of(heading)
    assert "実施状況" not in text_of(heading)


def test_council_reads_the_plan_as_published_while_results_stay_hidden(client, council, page):
    assert page.context["publication"].shows_snapshot
    assert client.get("/branches/12/2024/").status_code == 404


def test_multi_year_kpi_table_matches_seed_002(page):
    headings, rows = kpi_list(page.content.decode())
    assert headings[2:5] == ["令和4年度実績", "令和5年度目標", "令和6年度目標"]
    for name, figures in SEED_002_ROWS.items():
        assert tuple(rows[name]["cells"][2:5]) == figures, name


def test_new_kpis_carry_a_badge_not_a_target(page):
    _, rows = kpi_list(page.content.decode())
    for name in NEW_KPIS:
        assert rows[name]["badges"] == ["【新設】"], name
        assert all("新設" not in cell for cell in rows[name]["cells"][2:]), name
    assert rows["生活習慣病予防健診実施率"]["badges"] == []


def test_measures_keep_their_importance_and_difficulty(page):
    text = text_of(page.content.decode())
    assert "特定健診実施率・事業者健診データ取得率等の向上 重要度：高 困難度：高" in text
    assert "※KPIの設定なし" in text


def test_branch_members_read_the_working_plan(client, staff_12):
    client.force_login(staff_12)
    response = client.get(URL)
    assert response.status_code == 200
    assert not response.context["publication"].shows_snapshot
    assert "の違い" not in response.content.decode()  # nothing changed since the publication


def measure_text(html: str, title: str) -> str:
    """The text of the measure whose heading names `title`."""
    for article in re.findall(r'<article class="measure"[^>]*>(.*?)</article>', html, re.S):
        if title in text_of(re.search(r"<h3>(.*?)</h3>", article, re.S).group(1)):
            return text_of(article)
    raise AssertionError(f"no measure {title}")


def test_council_reads_why_a_measure_is_important_and_difficult(page):
    # Seed 002, 令和6年度 column of 健全な財政運営: the paragraphs after each flag.
    text = measure_text(page.content.decode(), "健全な財政運営")
    assert "【重要度：高】 協会けんぽは約4,000万人の加入者" in text
    assert "日本最大の医療保険者" in text
    assert "【困難度：高】 協会けんぽの財政は、" in text
    assert "平均保険料率10%を維持してきた" in text
