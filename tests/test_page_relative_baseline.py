"""A relative target (対前年度以上) shows its baseline as soon as the row knows it; only 達成
waits for the actual. The baseline shown before the actual is the one the evaluation then
uses."""

import pytest
from django.core.management import call_command
from django.db import transaction

from kpis.models import Kpi
from tests import factories
from tests.factories_pages import BranchPlanFactory, indicator

pytestmark = pytest.mark.django_db


def one_kpi(**kwargs) -> Kpi:
    BranchPlanFactory(fiscal_year=factories.FiscalYearFactory(start_year=2023))
    return factories.KpiFactory(
        measure__fiscal_year__start_year=2023, indicator=indicator(50), **kwargs
    )


def page(client, user) -> str:
    client.force_login(user)
    return client.get("/branches/11/2023/").content.decode()


def test_chiba_2023_shows_the_baseline_from_its_previous_actual_before_the_actual(client, admin):
    with transaction.atomic():
        call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        client.force_login(admin)
        html = client.get("/branches/12/2023/").content.decode()
        kpi = Kpi.objects.get(
            branch__code="12", fiscal_year__start_year=2023, indicator__name__contains="再審査"
        )
        transaction.set_rollback(True)

    assert (kpi.target_text, kpi.previous_actual_text, kpi.actual_text) == (
        "対前年度以上",
        "8,167円",
        "",
    )
    assert "評価の基準：8,167円（前年度実績）" in html
    assert kpi.achieved is None


def test_the_baseline_shown_before_the_actual_is_the_one_evaluated_after_it(client, admin):
    kpi = one_kpi(target_text="対前年度以上", previous_actual_text="85.38%", actual_text="")
    before = page(client, admin)

    kpi.actual_text = "86.0%"
    kpi.save()
    after = page(client, admin)

    assert "評価の基準：85.38%（前年度実績）" in before
    assert "評価の基準：85.38%（前年度実績）" in after
    achieved = '<span class="achieved-yes nowrap">達成</span>'
    assert achieved not in before and achieved in after


def test_the_previous_years_readable_actual_is_the_baseline_before_the_actual(client, council):
    BranchPlanFactory(fiscal_year=factories.FiscalYearFactory(start_year=2022))
    factories.KpiFactory(
        measure__fiscal_year__start_year=2022, indicator=indicator(50), actual_text="97.1%"
    )
    one_kpi(target_text="対前年度以上", actual_text="")

    assert "評価の基準：97.1%（前年度の登録実績）" in page(client, council)


def test_without_any_previous_actual_the_baseline_is_still_open(client, admin):
    one_kpi(target_text="対前年度以上", actual_text="")

    assert "評価の基準：未確定（実績の登録後に決まります）" in page(client, admin)
