"""The branch achievement page: pillars → measures → activities and KPIs of a branch × year."""

import pytest

from kpis.models import Kpi, MonthlyValue
from tests import factories
from tests.factories_pages import BranchPlanFactory, indicator, plan_year

pytestmark = pytest.mark.django_db


@pytest.fixture
def saitama_2023(admin, client):
    plan_year("11", 2023, measures=2, activities=2, kpis=2)
    client.force_login(admin)
    return client


def page(client, url="/branches/11/2023/"):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def one_kpi(**kwargs):
    """A KPI of 埼玉 FY2023 in a plan of its own."""
    BranchPlanFactory(fiscal_year=factories.FiscalYearFactory(start_year=2023))
    return factories.KpiFactory(
        measure__fiscal_year__start_year=2023, indicator=indicator(50), **kwargs
    )


def test_heading_names_branch_and_year(saitama_2023):
    text = page(saitama_2023)
    assert "令和5年度 埼玉支部事業計画 実施状況" in text
    assert "(2023)" in text
    assert "公表済" in text


def test_pillars_measures_and_activities(saitama_2023):
    text = page(saitama_2023)
    assert "1. 基盤的保険者機能関係" in text
    assert "2. 戦略的保険者機能関係" in text
    assert "施策1" in text and "施策2" in text
    assert "重要度：高" in text and "困難度：高" in text
    assert "業務G" in text and "保健G" in text
    assert '<span class="row-number">①</span> 評議会において丁寧な説明' in text
    assert "計画どおり実施した。" in text  # narrative
    assert "受診勧奨の強化が必要。" in text  # 課題


def test_kpi_row_shows_target_actual_as_of_previous_national_average_and_rank(saitama_2023):
    text = page(saitama_2023)
    assert "0.94%以下" in text  # target as written
    assert "0.83%" in text and "（R6.2現在）" in text  # actual and its as-of note
    assert "55.0%" in text  # national average
    assert "11位" in text  # national rank
    assert "達成" in text and "未達成" in text


def test_summary_counts_marks_over_activities_and_kpis(saitama_2023):
    report = saitama_2023.get("/branches/11/2023/").context["report"]
    assert report.activity_marks.cells() == [("◎", 2), ("○", 2), ("△", 0), ("×", 0), ("—", 0)]
    assert report.kpi_marks.cells() == [("◎", 1), ("○", 1), ("△", 1), ("×", 0), ("—", 1)]
    assert report.marks.total == 8


def test_previous_and_next_year_links(client, admin):
    for year in (2021, 2023, 2024):
        plan_year("11", year, measures=1)
    client.force_login(admin)
    text = page(client)
    assert 'href="/branches/11/2021/"' in text  # 2022 has no plan: the link skips it
    assert 'href="/branches/11/2024/"' in text
    assert "令和3年度 (2021)" in text


def test_written_baseline_of_a_relative_target(client, admin):
    one_kpi(target_text="前年度(0.54％)以下", actual_text="0.50%")
    client.force_login(admin)
    text = page(client)
    assert "評価の基準：0.54%（目標に記載）" in text


def test_relative_target_against_the_previous_actual_in_the_row(client, admin):
    one_kpi(target_text="対前年度以上", previous_actual_text="82.4%", actual_text="83.0%")
    client.force_login(admin)
    text = page(client)
    assert "対前年度以上" in text
    assert "評価の基準：82.4%（前年度実績）" in text


def test_relative_target_against_the_stored_previous_year(client, admin):
    plan_year("11", 2022, measures=1, kpis=1)  # 共通指標0 2022: 97.1%
    plan_year("11", 2023, measures=1, kpis=0)
    measure = factories.MeasureFactory(fiscal_year__start_year=2023, number=9)
    factories.KpiFactory(
        measure=measure, indicator=indicator(0), target_text="対前年度以上", actual_text="98%"
    )
    client.force_login(admin)
    text = page(client)
    assert "評価の基準：97.1%（前年度の登録実績）" in text


def test_relative_target_without_a_previous_actual_says_so(client, admin):
    kpi = one_kpi(target_text="対前年度以上", actual_text="83.0%")
    assert kpi.evaluation_problem
    client.force_login(admin)
    text = page(client)
    assert "評価の基準：不明（前年度実績が読めないか未登録です）" in text
    assert f"評価できません：{kpi.evaluation_problem}" in text


def test_relative_target_before_the_actual_is_known(client, admin):
    one_kpi(target_text="対前年度以上", actual_text="")
    client.force_login(admin)
    assert "評価の基準：未確定（実績の登録後に決まります）" in page(client)


def test_manual_mark_that_differs_from_the_suggestion_shows_its_source(client, admin):
    kpi = one_kpi(target_text="96.5%以上", actual_text="97.0%")
    kpi.mark_source = Kpi.MarkSource.MANUAL
    kpi.mark = "◎"
    kpi.mark_reason = "年度後半に大きく改善"
    kpi.save()
    client.force_login(admin)
    text = page(client)
    assert "手動" in text
    assert "自動判定：○" in text
    assert "理由：年度後半に大きく改善" in text


def test_trend_over_the_years_and_monthly_chart(client, admin):
    plan_year("11", 2022, measures=1, kpis=1)
    plan_year("11", 2023, measures=1, kpis=1, months=3)
    client.force_login(admin)
    report = client.get("/branches/11/2023/").context["report"]
    (row,) = report.pillars[0].measures[0].kpis
    assert "<svg" in row.trend_chart and "2022" in row.trend_chart
    assert [chart.series for chart in row.monthly_charts] == ["単月", "累計"]
    assert all("<svg" in chart.svg for chart in row.monthly_charts)
    assert row.monthly_rows[0] == ("単月", ["84.5%", "85.5%", "86.5%"] + [""] * 9)
    assert row.monthly_rows[1][0] == "累計"
    text = page(client)
    assert "月次実績（令和5年度）" in text


def test_no_monthly_chart_without_monthly_values(saitama_2023):
    report = saitama_2023.get("/branches/11/2023/").context["report"]
    assert all(
        not row.monthly_charts and not row.monthly_rows
        for pillar in report.pillars
        for measure in pillar.measures
        for row in measure.kpis
    )
    assert not MonthlyValue.objects.exists()


def test_page_prints_on_a4_with_page_breaks_between_pillars(saitama_2023):
    text = page(saitama_2023)
    assert 'href="/static/css/print.css" media="print"' in text
    assert text.count('<section class="pillar">') == 2
    assert "<script" not in text


def test_a_plan_without_measures_explains_what_to_do(client, admin):
    BranchPlanFactory(fiscal_year=factories.FiscalYearFactory(start_year=2023))
    client.force_login(admin)
    text = page(client)
    assert "令和5年度 (2023)の埼玉支部の施策・KPIはまだ登録されていません" in text


@pytest.mark.parametrize(
    "url", ["/branches/99/2023/", "/branches/11/1999/", "/branches/1/2023/", "/branches/11/23/"]
)
def test_unknown_branch_or_year_is_404(saitama_2023, url):
    assert saitama_2023.get(url).status_code == 404


def test_branch_url_without_year_opens_the_latest_readable_year(client, admin):
    plan_year("11", 2022, measures=1)
    plan_year("11", 2023, measures=1)
    client.force_login(admin)
    response = client.get("/branches/11/")
    assert response.status_code == 302
    assert response["Location"] == "/branches/11/2023/"
    assert client.get("/branches/12/").status_code == 404
