"""Nothing of a draft plan reaches a council member through a published page.

埼玉's FY2022 is a draft, its FY2023 published. FY2023's KPI 特定健診実施率 has the relative
target 対前年度以上 and was evaluated against FY2022's stored actual (12.34%). FY2022 also has
a measure of its own (区分 3, worded 下書きの区分; 担当グループ 下書きG) with an indicator used
nowhere else (下書き専用指標).
"""

import pytest

from kpis.models import BranchPlan
from tests import factories
from tests.factories_pages import BranchPlanFactory

pytestmark = pytest.mark.django_db

DRAFT_ONLY = ("下書き専用指標", "下書きG", "3. 組織・運営体制")


@pytest.fixture
def saitama():
    branch = factories.branch("11")
    draft_year = factories.FiscalYearFactory(start_year=2022)
    published_year = factories.FiscalYearFactory(start_year=2023)
    BranchPlanFactory(branch=branch, fiscal_year=draft_year, status=BranchPlan.Status.DRAFT)
    BranchPlanFactory(branch=branch, fiscal_year=published_year)
    rate = factories.IndicatorFactory(name="特定健診実施率", slug="kenshin")
    draft_measure = factories.MeasureFactory(
        branch=branch,
        fiscal_year=draft_year,
        group="下書きG",
        pillar=factories.PillarFactory(number=3),
        pillar_label="下書きの区分",
    )
    factories.KpiFactory(measure=draft_measure, indicator=rate, actual_text="12.34%")
    factories.KpiFactory(
        measure=draft_measure,
        indicator=factories.IndicatorFactory(
            name="下書き専用指標", slug="draft-only", definition="下書きにだけある定義"
        ),
        actual_text="5件",
    )
    published_measure = factories.MeasureFactory(
        branch=branch, fiscal_year=published_year, group="業務G"
    )
    kpi = factories.KpiFactory(
        measure=published_measure, indicator=rate, target_text="対前年度以上", actual_text="13%"
    )
    assert kpi.baseline_source == "stored_previous"  # evaluated against the draft's 12.34%
    return kpi


def test_council_sees_no_baseline_from_a_draft_year(client, council, saitama):
    client.force_login(council)
    text = client.get("/branches/11/2023/").content.decode()
    assert "評価の基準：前年度の実績は未公表です" in text
    assert "12.34" not in text


def test_branch_member_sees_the_baseline_from_their_own_draft_year(client, staff_11, saitama):
    client.force_login(staff_11)
    text = client.get("/branches/11/2023/").content.decode()
    assert "評価の基準：12.34%（前年度の登録実績）" in text


def test_kpi_table_offers_no_filter_choice_that_exists_only_in_drafts(client, council, saitama):
    client.force_login(council)
    response = client.get("/kpis/")
    form = response.context["filter"].form
    offered = {
        str(label)
        for name in ("indicator", "group", "pillar")
        for _, label in form.fields[name].choices
    }
    assert {"特定健診実施率", "業務G", "1. 基盤的保険者機能"} <= offered
    assert not any(word in label for word in DRAFT_ONLY for label in offered)
    assert not any(word in response.content.decode() for word in DRAFT_ONLY)


def test_kpi_table_offers_draft_choices_to_the_branch_itself(client, staff_11, saitama):
    client.force_login(staff_11)
    text = client.get("/kpis/").content.decode()
    assert all(word in text for word in DRAFT_ONLY)


@pytest.mark.parametrize("year", [2022, 2023])
def test_comparison_of_an_indicator_used_only_in_drafts_is_404(client, council, saitama, year):
    client.force_login(council)
    response = client.get(f"/indicators/draft-only/{year}/")
    assert response.status_code == 404
    assert "下書きにだけある定義" not in response.content.decode()


def test_indicator_list_leaves_out_an_indicator_used_only_in_drafts(client, council, saitama):
    client.force_login(council)
    text = client.get("/indicators/").content.decode()
    assert "特定健診実施率" in text
    assert "下書き専用指標" not in text


def test_branch_member_compares_the_indicator_of_their_own_draft(client, staff_11, saitama):
    client.force_login(staff_11)
    response = client.get("/indicators/draft-only/2022/")
    assert response.status_code == 200
    assert "下書きにだけある定義" in response.content.decode()
