"""Data for the reading-page tests: whole branch plans of a year, small or large."""

import factory

from kpis.models import BranchPlan, MonthlyValue, Pillar
from kpis.numbering import NATIONAL_PILLARS
from tests import factories

ACTIVITY_MARKS = ["◎", "○", "△", "×", ""]
TARGETS_AND_ACTUALS = [
    ("96.5%以上", "97.1%"),  # ○
    ("0.94%以下", "0.83% (R6.2現在)"),  # ◎
    ("53.8%以上", "42.6%"),  # △
    ("13.1%以上", "—"),  # —
]


class BranchPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BranchPlan
        django_get_or_create = ["branch", "fiscal_year"]

    branch = factory.LazyFunction(lambda: factories.branch("11"))
    fiscal_year = factory.SubFactory(factories.FiscalYearFactory)
    status = BranchPlan.Status.PUBLISHED


def indicator(number: int, **kwargs):
    """A national indicator shared by every branch and year built here."""
    kwargs.setdefault("direction", "lower" if number % 4 == 1 else "higher")
    kwargs.setdefault("name", f"共通指標{number}")
    return factories.IndicatorFactory(slug=f"kyotsu-{number}", **kwargs)


def plan_year(
    code: str = "11",
    year: int = 2023,
    *,
    status=BranchPlan.Status.PUBLISHED,
    measures: int = 2,
    activities: int = 2,
    kpis: int = 2,
    months: int = 0,
) -> BranchPlan:
    """A branch's plan for one year: measures over the pillars, each with activities, KPIs
    (targets and actuals giving every mark) and optionally monthly values."""
    branch = factories.branch(code)
    fiscal_year = factories.FiscalYearFactory(start_year=year)
    plan = BranchPlanFactory(branch=branch, fiscal_year=fiscal_year, status=status)
    pillars = [
        Pillar.objects.get_or_create(number=n, defaults={"name": NATIONAL_PILLARS[n]})[0]
        for n in (1, 2)
    ]
    for m in range(measures):
        measure = factories.MeasureFactory(
            branch=branch,
            fiscal_year=fiscal_year,
            pillar=pillars[m % 2],
            pillar_label=("基盤的保険者機能関係", "戦略的保険者機能関係")[m % 2],
            number=m + 1,
            title=f"施策{m + 1}",
            group="業務G" if m % 2 == 0 else "保健G",
            is_important=m == 0,
            is_difficult=m == 1,
            narrative="計画どおり実施した。",
            challenges="受診勧奨の強化が必要。",
        )
        for a in range(activities):
            factories.ActivityFactory(
                measure=measure, number=a + 1, mark=ACTIVITY_MARKS[a % len(ACTIVITY_MARKS)]
            )
        for k in range(kpis):
            number = m * kpis + k
            target, actual = TARGETS_AND_ACTUALS[number % len(TARGETS_AND_ACTUALS)]
            kpi = factories.KpiFactory(
                measure=measure,
                indicator=indicator(number),
                order=k,
                target_text=target,
                actual_text=actual,
                national_average_text="55.0%",
                national_rank=10 + number,
            )
            for month in range(4, 4 + months):
                factories.MonthlyValueFactory(kpi=kpi, month=month, text=f"{80 + month}.5%")
                factories.MonthlyValueFactory(
                    kpi=kpi, month=month, series=MonthlyValue.Series.CUMULATIVE, text="90%"
                )
    return plan


def small_data_set():
    plan_year("11", 2023, measures=1, activities=1, kpis=1)


def large_data_set():
    """Three branches × three years, more measures, KPIs, activities and months."""
    for code in ("11", "12", "10"):
        for year in (2021, 2022, 2023):
            plan_year(code, year, measures=4, activities=3, kpis=3, months=3)
