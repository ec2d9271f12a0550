"""The indicator list (/indicators/) follows the plans' order — pillar, then measure, then
the KPI's place in the measure — not the alphabet; an indicator is placed where the first plan
that has it (earliest year, then branch order) places it."""

import pytest

from kpis.models import Measure
from tests import factories
from tests.factories_pages import BranchPlanFactory

pytestmark = pytest.mark.django_db


def kpi_in(code, year, pillar, number, name, order=0):
    fiscal_year = factories.FiscalYearFactory(start_year=year)
    branch = factories.branch(code)
    BranchPlanFactory(branch=branch, fiscal_year=fiscal_year)
    place = {"branch": branch, "fiscal_year": fiscal_year, "number_label": f"({number})"}
    measure = Measure.objects.filter(**place).first() or factories.MeasureFactory(
        **place, pillar=factories.PillarFactory(number=pillar), title=f"施策{pillar}-{number}"
    )
    factories.KpiFactory(
        measure=measure, indicator=factories.IndicatorFactory(name=name), order=order
    )


def listed(client, user):
    client.force_login(user)
    return [entry.indicator.name for entry in client.get("/indicators/").context["entries"]]


@pytest.fixture
def saitama_2023():
    # Written in an order neither alphabetical nor the plan's.
    kpi_in("11", 2023, 2, 10, "ジェネリック医薬品使用割合")
    kpi_in("11", 2023, 1, 2, "サービススタンダード達成率")
    kpi_in("11", 2023, 3, 1, "一者応札案件の割合")
    kpi_in("11", 2023, 2, 3, "特定保健指導実施率", order=1)
    kpi_in("11", 2023, 2, 3, "生活習慣病予防健診実施率", order=0)
    kpi_in("11", 2023, 1, 11, "レセプト点検の査定率")  # (11) after (2), not before it


def test_the_list_follows_pillar_then_measure_then_the_kpis_place(client, council, saitama_2023):
    assert listed(client, council) == [
        "サービススタンダード達成率",
        "レセプト点検の査定率",
        "生活習慣病予防健診実施率",
        "特定保健指導実施率",
        "ジェネリック医薬品使用割合",
        "一者応札案件の割合",
    ]


def test_an_indicator_is_placed_by_the_first_plan_that_has_it(client, admin, saitama_2023):
    # Later and other branches' plans put the generics indicator first: the first plan wins.
    kpi_in("11", 2024, 1, 1, "ジェネリック医薬品使用割合")
    kpi_in("12", 2023, 1, 1, "ジェネリック医薬品使用割合")
    # An indicator first seen in Chiba's 2022 plan is placed by that plan.
    kpi_in("12", 2022, 1, 5, "健康宣言事業所数")
    names = listed(client, admin)
    assert names.index("ジェネリック医薬品使用割合") == 5
    assert names.index("健康宣言事業所数") == 1
