"""実施状況 and 課題 keep their bullets as lists; figures, marks and status words do not break
across lines; a KPI's 備考 is shown on its row."""

from pathlib import Path

import pytest
from django.template import Context, Template

from kpis.templatetags.report_text import text_blocks, unbroken
from tests import factories
from tests.factories_pages import BranchPlanFactory, indicator

pytestmark = pytest.mark.django_db


def test_bullets_run_into_one_line_become_list_items():
    html = text_blocks("■ 宣言数が伸びない ■ 宣言済事業所の取り組み状況に差がある")

    assert html == (
        '<ul class="text-list">'
        '<li><span class="bullet-mark">■</span>宣言数が伸びない</li>'
        '<li><span class="bullet-mark">■</span>宣言済事業所の取り組み状況に差がある</li>'
        "</ul>"
    )


def test_plain_lines_stay_paragraphs_and_middle_dots_inside_words_are_no_bullets():
    html = text_blocks(
        "業務の標準化・効率化を図った。\n次年度も継続する。\n・ 研修を実施\n・ 周知を強化"
    )

    assert html == (
        "<p>業務の標準化・効率化を図った。<br>次年度も継続する。</p>"
        '<ul class="text-list"><li><span class="bullet-mark">・</span>研修を実施</li>'
        '<li><span class="bullet-mark">・</span>周知を強化</li></ul>'
    )


def test_branch_text_is_escaped():
    html = text_blocks("■ <script>alert(1)</script>\n<b>太字</b>")

    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;太字&lt;/b&gt;" in html
    rendered = Template("{% load report_text %}{{ t|unbroken }}").render(Context({"t": "<i>"}))
    assert rendered == '<span class="nowrap">&lt;i&gt;</span>'
    assert "<i>" not in unbroken("<i>85.38%以上</i> と書かれた長い目標の文")


def test_figures_and_short_values_are_kept_on_one_line():
    assert unbroken("85.38%以上") == '<span class="nowrap">85.38%以上</span>'
    assert unbroken("前年度（0.310%）以上かつ1,170事業所以上とする") == (
        '前年度（<span class="nowrap">0.310%</span>）以上かつ'
        '<span class="nowrap">1,170事業所以上とする</span>'
    )


@pytest.fixture
def page(client, admin):
    BranchPlanFactory(fiscal_year=factories.FiscalYearFactory(start_year=2023))
    kpi = factories.KpiFactory(
        measure__fiscal_year__start_year=2023,
        indicator=indicator(50),
        target_text="85.38%以上",
        actual_text="80.15%",
        note="【実績の集計】生活習慣病予防健診は4月～1月",
    )
    kpi.measure.challenges = "■ 全国平均と比較し実施率が低い ■ 周知が不足している"
    kpi.measure.narrative = "勧奨を実施した。\n・ 事業所訪問\n・ 文書勧奨"
    kpi.measure.save()
    client.force_login(admin)
    return client.get("/branches/11/2023/").content.decode()


def test_the_branch_page_shows_challenges_and_narrative_as_lists(page):
    assert '<span class="bullet-mark">■</span>全国平均と比較し実施率が低い</li>' in page
    assert '<span class="bullet-mark">■</span>周知が不足している</li>' in page
    assert "<p>勧奨を実施した。</p>" in page
    assert '<span class="bullet-mark">・</span>事業所訪問</li>' in page


def test_targets_and_status_words_do_not_wrap_and_the_note_is_on_the_row(page):
    assert '<span class="nowrap">85.38%以上</span>' in page
    assert '<span class="achieved-no nowrap">未達成</span>' in page
    assert (
        '<div class="kpi-note small muted">【実績の集計】生活習慣病予防健診は4月～1月</div>' in page
    )


def test_the_stylesheet_keeps_marks_figures_and_status_words_whole():
    css = (Path(__file__).parent.parent / "static/css/pages.css").read_text()
    rule = next(line for line in css.splitlines() if "span.nowrap" in line)
    for selector in ("span.nowrap", ".mark", ".achieved-no"):
        assert selector in rule
    assert "white-space: nowrap" in rule
