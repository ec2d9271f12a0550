"""kpis.bulk.insert writes many rows per statement (SQLite: as many as its parameters allow;
PostgreSQL: all in one): every object still gets the key of its own row."""

import pytest
from django.db import connection

from kpis import bulk
from kpis.models import MonthlyValue
from tests.factories import KpiFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("extra", [0, 1, 7])
def test_each_object_gets_the_key_of_its_own_row(extra):
    # SQLite's rows per statement (a value has nine columns); PostgreSQL has no bound.
    per_statement = (connection.features.max_query_params or 999) // 9
    kpis = KpiFactory.create_batch(2 * per_statement // 24 + 2)
    cells = [
        (kpi, month, series)
        for kpi in kpis
        for month in range(1, 13)
        for series in ("single", "cumulative")
    ]
    count = 2 * per_statement + extra
    values = [
        MonthlyValue(
            kpi=kpi, month=month, series=series, text=f"{number}件", value=number, unit="件"
        )
        for number, (kpi, month, series) in enumerate(cells[:count], start=1)
    ]

    assert bulk.insert(MonthlyValue, values)

    stored = {v.pk: (v.kpi_id, v.month, v.series, v.text) for v in MonthlyValue.objects.all()}
    assert len(stored) == count
    assert {v.pk: (v.kpi_id, v.month, v.series, v.text) for v in values} == stored
