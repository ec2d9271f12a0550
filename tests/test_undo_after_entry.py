"""Undo compares versions, not only values: a person who changed an imported value and
changed it back has saved twice, and undoing the import would delete their save."""

import pytest
from django.urls import reverse

from imports.models import ImportBatch
from kpis.models import MonthlyValue
from tests import factories_entry as fe
from tests.factories_imports import MONTHLY_HEADER, kpi_row, load, monthly_row, xlsx

pytestmark = pytest.mark.django_db

NAME = "現金給付等の申請に係る郵送化率"


@pytest.fixture
def batch(db):
    fe.fiscal_year(2023)
    load(xlsx([kpi_row(**{"KPI指標": NAME})]))
    rows = [monthly_row(indicator=NAME, months=["95.0%"])]
    return load(xlsx(rows, header=MONTHLY_HEADER, title="月次"), name="m.xlsx")


def test_undo_is_refused_after_a_person_changed_a_value_and_changed_it_back(
    client, admin, staff_11, batch
):
    kpi = MonthlyValue.objects.get().kpi
    client.force_login(staff_11)
    client.post(fe.grid_url(), fe.grid_data([kpi], {(kpi, 4): "96.0%"}))
    client.post(fe.grid_url(), fe.grid_data([kpi], {(kpi, 4): "95.0%"}))
    value = MonthlyValue.objects.get()
    assert (value.text, value.version) == ("95.0%", 3)

    client.force_login(admin)
    response = client.post(reverse("imports:undo", args=[batch.pk]), follow=True)

    assert "変更または削除されています" in response.content.decode()
    assert MonthlyValue.objects.get().version == 3
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.COMMITTED


def test_undo_goes_through_when_nobody_touched_the_values(client, admin, batch):
    client.force_login(admin)
    client.post(reverse("imports:undo", args=[batch.pk]))

    assert not MonthlyValue.objects.exists()
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.UNDONE
