"""`field__among` (kpis.lookups): the rows `__in` finds for the same whole numbers, also
when the list is empty or negated, and nothing but whole numbers is taken."""

import pytest

from kpis.models import Kpi, MonthlyValue
from tests.factories import KpiFactory, MonthlyValueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def values():
    kpis = KpiFactory.create_batch(3)
    return [MonthlyValueFactory(kpi=kpi, month=month) for kpi in kpis for month in (4, 5)]


def test_among_finds_what_in_finds(values):
    wanted = [values[0].pk, values[3].pk, 10**9]
    kpi_ids = {values[0].kpi_id, values[5].kpi_id}

    assert set(MonthlyValue.objects.filter(pk__among=wanted)) == set(
        MonthlyValue.objects.filter(pk__in=wanted)
    )
    assert set(MonthlyValue.objects.filter(kpi_id__among=kpi_ids)) == set(
        MonthlyValue.objects.filter(kpi_id__in=kpi_ids)
    )
    assert set(MonthlyValue.objects.filter(kpi__among=kpi_ids)) == set(
        MonthlyValue.objects.filter(kpi__in=kpi_ids)
    )
    assert MonthlyValue.objects.filter(kpi_id__among=kpi_ids).count() == 4


def test_an_empty_list_finds_nothing_and_excludes_nothing(values):
    assert not MonthlyValue.objects.filter(pk__among=[]).exists()
    assert MonthlyValue.objects.exclude(pk__among=[]).count() == len(values)
    assert MonthlyValue.objects.exclude(pk__among=[values[0].pk]).count() == len(values) - 1


def test_only_whole_numbers_are_taken(values):
    with pytest.raises(ValueError):
        list(Kpi.objects.filter(pk__among=["1 OR 1=1"]))
