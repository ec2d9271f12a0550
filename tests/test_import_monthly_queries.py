"""Importing monthly values asks the database as often for 3 KPIs as for 30, both when it
creates them and when it changes them: no query per value (a national workbook holds
30,000), also for what the importer leaves out when it reads the stored values."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from imports.models import ImportBatch
from kpis.models import MonthlyValue
from tests.factories_imports import MONTHLY_HEADER, kpi_row, load, monthly_row, xlsx


def monthly_workbook(kpis: int, first: int) -> bytes:
    rows = [
        monthly_row(indicator=f"指標{n}", months=[f"{first + n}%", f"{first + n + 1}%"])
        for n in range(1, kpis + 1)
    ]
    return xlsx(rows, header=MONTHLY_HEADER, title="月次")


def queries_of_import(kpis: int) -> tuple[int, int]:
    """(queries of the import creating the values, of the one changing them all)."""
    load(xlsx([kpi_row(**{"KPI指標": f"指標{n}", "単位": "%"}) for n in range(1, kpis + 1)]))
    counts = []
    for first in (10, 20):
        with CaptureQueriesContext(connection) as queries:
            batch = load(monthly_workbook(kpis, first), "monthly.xlsx", confirm_warnings=True)
        assert batch.status == ImportBatch.Status.COMMITTED
        counts.append(len(queries))
    assert MonthlyValue.objects.filter(text=f"{20 + kpis}%").exists()
    return tuple(counts)


@pytest.mark.django_db
def test_monthly_import_queries_do_not_grow_with_the_values():
    few = queries_of_import(3)
    MonthlyValue.objects.all().delete()

    assert queries_of_import(30) == few
