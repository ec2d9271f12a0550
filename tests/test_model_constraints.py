"""The database itself refuses rows the domain forbids, whatever code writes them."""

import pytest
from django.db import IntegrityError, transaction

from kpis.models import Activity, Kpi, MonthlyValue
from tests.factories import (
    ActivityFactory,
    KpiFactory,
    MeasureFactory,
    MonthlyValueFactory,
    branch,
)

pytestmark = pytest.mark.django_db


def test_one_kpi_per_branch_year_and_indicator():
    kpi = KpiFactory()
    other_measure = MeasureFactory(branch=kpi.branch, fiscal_year=kpi.fiscal_year)
    with pytest.raises(IntegrityError), transaction.atomic():
        KpiFactory(measure=other_measure, indicator=kpi.indicator)


def test_the_same_indicator_in_another_branch_is_allowed():
    kpi = KpiFactory()
    KpiFactory(measure=MeasureFactory(branch=branch("12")), indicator=kpi.indicator)
    assert Kpi.objects.filter(indicator=kpi.indicator).count() == 2


def test_one_monthly_value_per_kpi_month_and_series():
    value = MonthlyValueFactory(month=4, series=MonthlyValue.Series.SINGLE)
    MonthlyValueFactory(kpi=value.kpi, month=4, series=MonthlyValue.Series.CUMULATIVE)
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyValueFactory(kpi=value.kpi, month=4, series=MonthlyValue.Series.SINGLE)


def test_month_outside_1_to_12_is_refused():
    value = MonthlyValueFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyValue.objects.filter(pk=value.pk).update(month=13)


@pytest.mark.parametrize("mark", ["A", "〇", "o", "?"])
def test_kpi_marks_are_limited_to_the_five_marks(mark):
    kpi = KpiFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Kpi.objects.filter(pk=kpi.pk).update(mark=mark)


def test_activity_marks_are_limited_to_the_five_marks_or_blank():
    activity = ActivityFactory(mark="○")
    Activity.objects.filter(pk=activity.pk).update(mark="")
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.filter(pk=activity.pk).update(mark="◯")


def test_one_measure_number_per_branch_year_and_pillar():
    measure = MeasureFactory(number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        MeasureFactory(
            number=1, branch=measure.branch, fiscal_year=measure.fiscal_year, pillar=measure.pillar
        )


def test_saving_a_kpi_reads_its_texts_and_suggests_a_mark():
    kpi = KpiFactory(
        target_text="0.94%以下", actual_text="0.83% (R6.2現在)", indicator__direction="lower"
    )
    kpi.refresh_from_db()
    assert kpi.target_comparator == "le"
    assert str(kpi.actual_value).rstrip("0") == "0.83"
    assert kpi.actual_note == "R6.2現在"
    assert kpi.achieved is True
    assert kpi.mark == "◎"
    assert kpi.mark_source == Kpi.MarkSource.COMPUTED


def test_a_manual_mark_wins_and_is_flagged_when_it_differs():
    kpi = KpiFactory(
        target_text="53.8%以上", actual_text="42.6%", mark="○", mark_source=Kpi.MarkSource.MANUAL
    )
    kpi.refresh_from_db()
    assert kpi.suggested_mark == "△"
    assert kpi.mark == "○"
    assert kpi.is_manual_override


def test_relative_target_uses_last_years_stored_actual():
    last_year = KpiFactory(
        measure__fiscal_year__start_year=2022, actual_text="81.9%", target_text=""
    )
    kpi = KpiFactory(
        measure__fiscal_year__start_year=2023,
        indicator=last_year.indicator,
        target_text="対前年度以上",
        actual_text="82.9% (R5.11診療)",
    )
    assert kpi.baseline_source == "stored_previous"
    assert kpi.achieved is True
    assert kpi.mark == "○"
