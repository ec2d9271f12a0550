"""A person saving while an import job is preparing its rows: the import reads and prepares
the file without holding the write lock, so the save goes through at once instead of
waiting (SQLite would answer 503 after its busy timeout); the import then finds that a row
it would write moved since it read it, prepares again under its lock, and writes over the
saved value as a later change — the save is kept in the history and the import's undo
gives it back. Real concurrency (a thread with its own connection) on SQLite and
PostgreSQL."""

import pytest
from django.test import Client

from branches.models import Membership
from imports import pipeline
from kpis.models import MonthlyValue
from tests import factories
from tests import factories_entry as fe
from tests.factories_imports import MONTHLY_HEADER, monthly_row, xlsx
from tests.factories_jobs import (
    SHARED,
    in_thread,
    shared_database,  # noqa: F401 (fixture)
)

pytestmark = SHARED


def staff_of_11():
    return factories.MembershipFactory(
        user__username="staff11", branch=factories.branch("11"), role=Membership.Role.STAFF
    ).user


def saved_in_another_thread(user, kpi, month: int, text: str) -> tuple:
    """The single-cell form posted from another connection: (status, still waiting)."""
    url = f"/entry/11/2023/kpi/{kpi.pk}/{month}/"
    version = MonthlyValue.objects.get(kpi=kpi, month=month).version

    def save():
        client = Client()
        client.force_login(user)
        return client.post(url, {"text": text, "version": version}).status_code

    results = {}
    thread = in_thread(results, "save", save)
    thread.join(timeout=3)  # well under the busy timeout; a save waiting longer is a finding
    waiting = thread.is_alive()
    thread.join(timeout=30)
    return results.get("save"), waiting


@pytest.mark.usefixtures("shared_database")
def test_a_save_during_the_preparation_goes_through_and_the_import_writes_after_it(
    monkeypatch,
):
    rate = fe.kpi()
    fe.value(rate, 4, "90%")
    staff, admin = staff_of_11(), factories.admin_user()
    workbook = xlsx(
        [monthly_row(indicator=rate.indicator.name, months=["95%"])],
        header=MONTHLY_HEADER,
        title="月次",
    )
    batch = pipeline.preview(workbook, "月次.xlsx", admin)
    assert batch.can_commit, batch.errors
    prepare, seen = pipeline.prepare, {}

    def prepare_then_a_save_lands(validated, user=None, *, lock=False):
        plan = prepare(validated, user, lock=lock)
        if not seen:
            seen["save"] = saved_in_another_thread(staff, rate, 4, "91%")
        return plan

    monkeypatch.setattr(pipeline, "prepare", prepare_then_a_save_lands)

    batch = pipeline.commit(batch, admin)

    assert seen["save"] == (302, False)  # saved at once, not held up by the import
    assert batch.status == batch.Status.COMMITTED, batch.errors
    stored = MonthlyValue.objects.get(kpi=rate, month=4)
    # Written after the save, one version on from it: both changes are in the history.
    assert (stored.text, stored.version) == ("95%", 3)
    assert list(stored.history.order_by("history_id").values_list("text", flat=True)) == [
        "90%",
        "91%",
        "95%",
    ]
    pipeline.undo(batch, admin)
    stored.refresh_from_db()
    assert stored.text == "91%"  # the undo gives the person's save back, not the 90% before it
