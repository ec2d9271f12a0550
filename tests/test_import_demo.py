"""The demo workbooks (imports/demo) go through the importer with the counts their README
states, the values as written, and a second import changes nothing."""

import pytest
from django.core.management import call_command

from imports import pipeline
from kpis.models import Activity, BranchPlan, Indicator, Kpi, Measure, MonthlyValue
from tests.factories_imports import database_state, demo, load

pytestmark = pytest.mark.django_db


def counts(batch) -> dict:
    return {row["model"]: (row["create"], row["update"]) for row in batch.counts}


def test_saitama_fy2023():
    batch = load(demo("saitama_2023_kpi.xlsx"), "saitama_2023_kpi.xlsx")

    assert counts(batch)["measure"] == (29, 0)
    assert counts(batch)["activity"] == (84, 0)
    assert counts(batch)["kpi"] == (19, 0)
    assert len(batch.new_indicators) == 25  # the 指標 sheet's catalogue
    kpi = Kpi.objects.get(
        branch__code="11", indicator__name="柔道整復施術療養費の多部位頻回申請割合"
    )
    assert (kpi.target_text, kpi.actual_text) == ("0.94%以下", "0.83% (R6.2現在)")
    assert kpi.indicator.direction == "lower"
    assert (kpi.achieved, kpi.suggested_mark, kpi.mark) == (True, "◎", "◎")
    assert kpi.mark_source == Kpi.MarkSource.MANUAL
    measure = Measure.objects.get(branch__code="11", pillar__number=1, number_label="(1)")
    assert measure.title == "健全な財政運営"
    first = measure.activities.get(number=1)
    assert first.text.startswith("評議会において") and first.mark == "○"


def test_gunma_fy2023_numbers_activities_by_row_order_where_the_document_repeats_numbers():
    batch = load(demo("gunma_2023_kpi.xlsx"), "gunma_2023_kpi.xlsx")

    assert counts(batch)["activity"] == (75, 0)
    fy2023 = {"branch__code": "10", "fiscal_year__start_year": 2023}
    assert Measure.objects.filter(**fy2023).count() == 22
    assert Kpi.objects.filter(**fy2023).count() == 20
    # FY2022 KPI rows carry the previous year's monthly series.
    assert Kpi.objects.filter(branch__code="10", fiscal_year__start_year=2022).count() == 10
    assert any("行の順に" in notice for notice in batch.notices)
    numbers = Activity.objects.filter(
        measure__branch__code="10",
        measure__fiscal_year__start_year=2023,
        measure__number_label="(3)",
    ).values_list("number", flat=True)
    assert sorted(numbers) == [1, 2, 3, 4, 5]
    kpi = Kpi.objects.get(
        branch__code="10",
        fiscal_year__start_year=2023,
        indicator__name="再審査レセプト1件当たり査定額",
    )
    # The document writes 3,788 without 円; the row's 単位 completes it.
    assert (kpi.actual_text, kpi.previous_actual_text) == ("3,788円", "3,151円")
    assert (kpi.national_rank, kpi.achieved) == (47, True)


def test_chiba_draft_plan_with_the_two_previous_years():
    batch = load(demo("chiba_2024_kpi.xlsx"), "chiba_2024_kpi.xlsx")

    assert counts(batch)["measure"] == (43, 0)
    assert counts(batch)["kpi"] == (49, 0)
    assert counts(batch)["fiscalyear"] == (3, 0)
    plans = BranchPlan.objects.filter(branch__code="12")
    assert sorted(plans.values_list("fiscal_year__start_year", "status")) == [
        (2022, "draft"),
        (2023, "draft"),
        (2024, "draft"),
    ]
    # ※KPIの設定なし rows are measures without activities.
    measure = Measure.objects.get(
        branch__code="12", fiscal_year__start_year=2024, pillar__number=1, number_label="(1)"
    )
    assert measure.activities.count() == 0 and measure.kpis.count() == 0
    assert (measure.is_important, measure.is_difficult) == (True, True)


def test_gunma_monthly_after_the_kpis():
    load(demo("gunma_2023_kpi.xlsx"), "gunma_2023_kpi.xlsx")
    batch = load(demo("gunma_2023_monthly.xlsx"), "gunma_2023_monthly.xlsx")

    assert batch.kind == "monthly"
    assert any("月次内訳" in notice for notice in batch.notices)
    values = MonthlyValue.objects.filter(
        kpi__branch__code="10",
        kpi__fiscal_year__start_year=2023,
        kpi__indicator__name="柔道整復施術療養費の多部位頻回申請割合",
        series=MonthlyValue.Series.CUMULATIVE,
    )
    # Bare numbers take the indicator's unit (%).
    assert values.get(month=3).text == "1.00%"
    assert str(values.get(month=3).value) == "1.000000"
    assert MonthlyValue.objects.filter(kpi__fiscal_year__start_year=2022).exists()


@pytest.mark.parametrize(
    "names",
    [
        ["saitama_2023_kpi.xlsx"],
        ["chiba_2024_kpi.xlsx"],
        ["gunma_2023_kpi.xlsx", "gunma_2023_monthly.xlsx"],
    ],
)
def test_importing_again_changes_nothing(names):
    for name in names:
        load(demo(name), name)
    before = database_state()

    for name in names:
        analysis = pipeline.analyse(demo(name), name)
        assert not analysis.problems
        assert not analysis.plan.has_changes
        assert all(row["unchanged"] for row in analysis.plan.counts())

    assert database_state() == before


def test_load_demo_loads_everything_publishes_the_reported_years_and_can_run_again():
    call_command("load_demo", stdout=None)
    published = set(
        BranchPlan.objects.filter(status=BranchPlan.Status.PUBLISHED).values_list(
            "branch__code", "fiscal_year__start_year"
        )
    )
    assert published == {("11", 2023), ("10", 2023), ("12", 2022), ("12", 2023)}
    assert BranchPlan.objects.get(branch__code="12", fiscal_year__start_year=2024).status == (
        BranchPlan.Status.DRAFT
    )
    assert MonthlyValue.objects.count() > 200
    assert Indicator.objects.count() == 25
    before = database_state()

    call_command("load_demo")

    assert database_state() == before
