"""A busy database: while another connection holds the lock a save needs, the save waits a
few seconds at most and then answers 「しばらくしてからもう一度お試しください」 (503 with
Retry-After), never a 500; nothing is written, readers are not held up, and saving again
once the lock is gone works.

On SQLite the lock is another sqlite3 connection's `BEGIN IMMEDIATE` on a file copy of the
test database (the suite's own is in memory); on PostgreSQL a row lock (`FOR UPDATE`) held
by another connection. The waits are shortened for the test; that the configured wait is a
few seconds is asserted on the suite's own connection.
"""

import copy
import importlib
import sqlite3

import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from branches.models import Membership
from kpis.models import BranchPlan, MonthlyValue
from tests import factories
from tests import factories_entry as fe
from tests.factories_pages import BranchPlanFactory

load_branches = importlib.import_module("branches.migrations.0002_load_branches").load_branches

SQLITE = connection.vendor == "sqlite"
POSTGRESQL = connection.vendor == "postgresql"


def test_a_request_waits_for_a_lock_a_few_seconds_at_most(db):
    with connection.cursor() as cursor:
        if SQLITE:
            cursor.execute("PRAGMA busy_timeout")
            wait_ms = cursor.fetchone()[0]
        else:
            cursor.execute(
                "SELECT setting::int FROM pg_settings WHERE name IN"
                " ('lock_timeout', 'statement_timeout') ORDER BY name"
            )
            wait_ms, statement_ms = (row[0] for row in cursor.fetchall())
            assert statement_ms == settings.DB_STATEMENT_TIMEOUT * 1000 > 0
    assert wait_ms == settings.DB_LOCK_TIMEOUT * 1000
    assert 0 < wait_ms <= 10_000


@pytest.fixture
def sqlite_file_database(django_db_setup, django_db_blocker, tmp_path):
    """This test's requests and factories use a file copy of the (in-memory) test database,
    with a short busy timeout. Copied outside any test transaction, which would hold the
    write lock the copy waits for."""
    with django_db_blocker.unblock():
        original = connections["default"]
        original.ensure_connection()
        path = tmp_path / "busy.sqlite3"
        copy_target = sqlite3.connect(path)
        original.connection.backup(copy_target)
        copy_target.close()
        settings_dict = copy.deepcopy(original.settings_dict)
        settings_dict["NAME"] = str(path)
        settings_dict["OPTIONS"]["timeout"] = 0.3
        wrapper = original.__class__(settings_dict, "default")
        connections["default"] = wrapper
        # A transactional test before this one may have flushed the branches.
        load_branches(apps, None)
        yield path
        wrapper.close()
        connections["default"] = original


def saitama_cell():
    """A staff member of 埼玉 logged in, and the URL of one of their cells holding 90%."""
    kpi = fe.kpi()
    BranchPlanFactory(
        branch=kpi.branch, fiscal_year=kpi.fiscal_year, status=BranchPlan.Status.DRAFT
    )
    value = fe.value(kpi, 4, "90%")
    staff = factories.MembershipFactory(
        user__username="busy-staff", branch=kpi.branch, role=Membership.Role.STAFF
    ).user
    client = Client()
    client.force_login(staff)
    url = reverse("entry:cell", kwargs={"code": "11", "year": 2023, "pk": kpi.pk, "month": 4})
    return client, url, value


def assert_busy_page_then_saved_after(client, url, value, hold_lock, release_lock):
    hold_lock()
    try:
        busy = client.post(url, {"text": "92%", "version": value.version, "reason": ""})
        reading = client.get(url)
    finally:
        release_lock()

    assert busy.status_code == 503
    assert busy["Retry-After"].isdigit()
    assert "しばらくしてからもう一度お試しください" in busy.content.decode()
    assert reading.status_code == 200
    assert MonthlyValue.objects.get(pk=value.pk).text == "90%"
    again = client.post(url, {"text": "92%", "version": value.version, "reason": ""})
    assert again.status_code == 302
    assert MonthlyValue.objects.get(pk=value.pk).text == "92%"


@pytest.mark.skipif(not SQLITE, reason="SQLite's database write lock")
def test_sqlite_save_during_another_connections_write_gets_the_busy_page(sqlite_file_database):
    client, url, value = saitama_cell()
    holder = sqlite3.connect(sqlite_file_database, isolation_level=None)
    try:
        assert_busy_page_then_saved_after(
            client,
            url,
            value,
            hold_lock=lambda: holder.execute("BEGIN IMMEDIATE"),
            release_lock=lambda: holder.execute("ROLLBACK"),
        )
    finally:
        holder.close()


@pytest.mark.skipif(not POSTGRESQL, reason="PostgreSQL row locks and lock_timeout")
@pytest.mark.django_db(transaction=True)
def test_postgresql_save_of_a_locked_row_gets_the_busy_page(branches_present):
    client, url, value = saitama_cell()
    server = connection.settings_dict
    holder = psycopg.connect(
        dbname=server["NAME"],
        host=server["HOST"],
        port=server["PORT"],
        user=server["USER"],
        password=server["PASSWORD"],
    )
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '300ms'")
    try:
        assert_busy_page_then_saved_after(
            client,
            url,
            value,
            hold_lock=lambda: holder.execute(
                "SELECT id FROM kpis_monthlyvalue WHERE id = %s FOR UPDATE", [value.pk]
            ),
            release_lock=holder.rollback,
        )
    finally:
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
