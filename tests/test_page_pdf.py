"""The branch page as a PDF: A4 pages with a footer, the document's rows in the report's order.

The Saitama FY2023 PDF is drawn once for the module from the demo data (imports/demo), loaded
inside a transaction that is rolled back at the end, and read back with pypdf.
"""

import io
import re

import pypdf
import pytest
from django.test import Client
from django.utils import timezone

from kpis import pdf
from kpis.models import BranchPlan
from tests import factories

# Every test marked, so that pytest-django sets up the test database for the module's
# fixtures even when only tests without a database of their own are selected.
pytestmark = pytest.mark.django_db

A4_POINTS = (595.28, 841.89)

# 令和5年度 埼玉支部事業計画実施状況（概要版）(seed 000): the 結果 of every row, activities and
# KPIs alike, in the document's order. — (評価なし) is left out of the comparison, as a dash
# also fills the empty 目標 and 実績 cells.
SEED_000_MARKS_BY_MEASURE = [
    # 1、基盤的保険者機能関係
    "○○",  # (1) 健全な財政運営 ①②
    "○○○○",  # (2) サービス水準の向上 ①② KPIs, ③④
    "○×",  # (3) 限度額適用認定証の利用促進
    "○○◎○",  # (4) 現金給付の適正化の推進: ③ 柔道整復 KPI
    "◎◎",  # (5) レセプト内容点検: ① 査定率 KPI, ② 査定額 KPI
    "△○",  # (6) 保険証回収強化: ① 回収率 KPI
    "○○○◎",  # (7) 債権管理回収業務: ④ 回収率 KPI
    "△",  # (8) 被扶養者資格の再確認 KPI
    "○",  # (9) オンライン資格確認
    "○○○○",  # (10) 業務改革の推進
    # 2、戦略的保険者機能関係
    "○○○△",  # (1) ●被保険者（生活習慣病予防健診）①–③, KPI
    "○○○○△",  # (1) ●被保険者（事業者健診データ）①–④, KPI
    "○○△",  # (1) ◆被扶養者（特定健診）①②, KPI
    "○○○○○○△",  # (2) ●被保険者 ①–⑥, KPI
    "○○○△",  # (2) ◆被扶養者 ①–③, KPI
    "○○○—",  # (3) 重症化予防対策 ①–③, KPI (no result)
    "○○○○○△",  # (4) コラボヘルス ①–⑤, KPI
    "○○○○○○○",  # (5) 広報
    "○○○○",  # (6) 健康保険委員 ①–③, KPI
    "○○○",  # (7) ジェネリック医薬品 ①②, KPI
    "○",  # (8) インセンティブ制度
    "○",  # (9) 医療費適正化
    "○○○",  # (10) 地域との連携強化
    "○○",  # (11) 地域医療体制への働きかけ: activity, KPI
    "○○○○○—",  # (12) 調査研究の推進
    # 3、組織・運営体制関係
    "○○○",  # (1) 人事制度
    "○○",  # (2) 組織運営の強化
    "○",  # (3) 内部統制の強化
    "○○",  # (4) リスク管理の徹底
    "○○",  # (5) コンプライアンスの遵守
    "○○○○◎",  # (6) 費用対効果: ①–④, KPI
    "○○",  # (7) 支部における健康づくり
]
SEED_000_MARKS = [mark for row in SEED_000_MARKS_BY_MEASURE for mark in row if mark != "—"]

# The legend (結果：◎計画を大幅に上回る …) repeats the marks beside their words.
LEGEND = re.compile(
    r"[◎○△×—][ \t\u3000]*(計画を大幅に上回る|計画通り|計画を下回る|未実施|評価なし)"
)
# A row's mark stands alone in its cell, so in the text between blanks.
ROW_MARK = re.compile(r"(?<!\S)[◎○△×](?!\S)")


@pytest.fixture(scope="module")
def saitama(demo, django_db_blocker):
    """The council member's download of the Saitama FY2023 PDF, and its plan."""
    with django_db_blocker.unblock():
        client = Client()
        client.force_login(factories.council_user("council-pdf"))
        response = client.get("/branches/11/2023/pdf/")
        plan = BranchPlan.objects.get(branch__code="11", fiscal_year__start_year=2023)
    return response, plan


@pytest.fixture(scope="module")
def pages(saitama):
    response, _ = saitama
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    return [(page.mediabox, page.extract_text()) for page in reader.pages]


def row_marks(text: str) -> list[str]:
    """The row marks of the document's body: from the first pillar on, legends left out."""
    body = text[text.index("基盤的保険者機能関係") :]
    return ROW_MARK.findall(LEGEND.sub("", body))


def test_the_pdf_downloads_under_the_documents_name(saitama):
    response, _ = saitama
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "%E5%9F%BC%E7%8E%89%E6%94%AF%E9%83%A8" in response["Content-Disposition"]  # 埼玉支部
    assert response.content.startswith(b"%PDF-")


def test_every_page_is_a4(pages):
    assert len(pages) > 1
    for box, _ in pages:
        assert float(box.width) == pytest.approx(A4_POINTS[0], abs=1)
        assert float(box.height) == pytest.approx(A4_POINTS[1], abs=1)


def test_every_footer_names_the_page_branch_year_and_publication_date(saitama, pages):
    _, plan = saitama
    published = timezone.localtime(plan.published_at)
    date = f"公表日 {published.year}年{published.month}月{published.day}日"
    for number, (_, text) in enumerate(pages, start=1):
        footer = text.rstrip().splitlines()[-2:]
        assert f"{number} / {len(pages)}" in " ".join(footer)
        assert f"埼玉支部　令和5年度 (2023)　{date}" in " ".join(footer)


def test_the_pdf_is_the_print_view_without_the_sites_navigation(pages):
    text = "\n".join(text for _, text in pages)
    assert "令和5年度 埼玉支部事業計画 実施状況" in text
    assert "ログアウト" not in text and "の支部一覧" not in text


def test_row_marks_follow_seed_000_row_by_row(pages):
    text = "\n".join(text for _, text in pages)
    assert row_marks(text) == SEED_000_MARKS


def test_an_unpublished_year_says_so_in_the_footer():
    assert pdf.publication_label(None) == "未公表"
    assert pdf.publication_label(BranchPlan(published_at=None)) == "未公表"


def test_council_members_get_no_pdf_of_a_draft(demo, client, council):
    client.force_login(council)
    assert client.get("/branches/12/2024/pdf/").status_code == 404  # Chiba's FY2024 draft
    assert client.get("/branches/99/2023/pdf/").status_code == 404


def test_the_fetcher_reads_static_files_from_disk_and_nothing_else():
    fetcher = pdf.StaticFilesFetcher("http://testserver/")
    response = fetcher.fetch("http://testserver/static/css/print.css")
    assert response.content_type == "text/css"
    assert b"@page" in response.read()
    for url in ("https://example.com/static/css/print.css", "http://testserver/admin/"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    with pytest.raises(ValueError):
        fetcher.fetch("http://testserver/static/../config/settings.py")


def test_charts_are_drawn_with_the_pages_colours_and_unfilled_lines():
    stylesheets = [
        ":root { --accent: #123456; }",
        ".chart-series { fill: none; stroke: var(--accent); }"
        ".chart-small { width: 36mm; height: auto; font-size: 10px; }"
        "td.num { color: red; }",
    ]
    style = pdf.chart_style(stylesheets)
    assert style == ".chart-series{fill:none;stroke:#123456}.chart-small{font-size:10px}"
