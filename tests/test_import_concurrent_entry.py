"""An import and a person saving the same cell at the same moment: the import locks the
rows it has read until it commits, so the person's save waits, then finds the cell's
version moved on and is refused with the conflict. Neither number is silently overwritten.

PostgreSQL only: SQLite takes its write lock when a writing transaction begins, so there
the two cannot interleave at all.
"""

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from imports import pipeline
from kpis.models import MonthlyValue
from tests import factories_entry as fe
from tests.factories_imports import MONTHLY_HEADER, monthly_row, xlsx

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL"),
]


def in_thread(results: dict, key: str, call) -> threading.Thread:
    def run():
        try:
            results[key] = call()
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_cell_saved_during_an_import_waits_and_is_refused_not_overwritten(
    branches_present, monkeypatch, staff_11
):
    rate = fe.kpi()
    fe.value(rate, 4, "90%")
    form = fe.grid_data([rate], {(rate, 4): "91%"})  # on the staff's screen before the import
    workbook = xlsx(
        [monthly_row(indicator=rate.indicator.name, months=["95%"])],
        header=MONTHLY_HEADER,
        title="月次",
    )
    prepared, resume = threading.Event(), threading.Event()
    apply = pipeline.apply

    def apply_after_a_pause(*args, **kwargs):
        prepared.set()
        resume.wait(timeout=30)
        return apply(*args, **kwargs)

    monkeypatch.setattr(pipeline, "apply", apply_after_a_pause)

    def save():
        client = Client()
        client.force_login(staff_11)
        return client.post(fe.grid_url(), form).status_code

    results = {}
    importer = in_thread(results, "import", lambda: pipeline.import_file(workbook, "月次.xlsx"))
    assert prepared.wait(timeout=30)
    saver = in_thread(results, "save", save)
    saver.join(timeout=2)
    waited = saver.is_alive()
    resume.set()
    importer.join(timeout=30)
    saver.join(timeout=30)

    assert waited, "the save went through while the import held the rows it had read"
    batch, analysis = results["import"]
    assert batch is not None, [str(p) for p in analysis.problems]
    assert results["save"] == 409
    stored = MonthlyValue.objects.get(kpi=rate, month=4)
    assert (stored.text, stored.version) == ("95%", 2)
