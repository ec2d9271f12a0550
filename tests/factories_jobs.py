"""For the import-job tests: a database that other threads and processes see, the real
queue (django-tasks-db) and its worker run once, and a few rows to import.

With `shared_database` (and the SHARED mark, transactional), a test on SQLite works on a
file copy of the in-memory test database, which other connections cannot reach; on
PostgreSQL it commits, so that other connections see its rows. Users are made after the
fixture (not by the cast's fixtures, which would write to the in-memory database).
"""

import copy
import importlib
import sqlite3
import threading

import pytest
from django.apps import apps
from django.db import connection, connections

from imports import pipeline
from imports.management.commands.import_worker import ImportWorker
from tests.factories_imports import kpi_row, load, xlsx

POSTGRESQL = connection.vendor == "postgresql"
# Transactional on both: on SQLite so that the test database exists and is copied outside
# any test transaction (the copy would wait for its lock).
SHARED = pytest.mark.django_db(transaction=True)
DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
load_branches = importlib.import_module("branches.migrations.0002_load_branches").load_branches


@pytest.fixture
def shared_database(request, django_db_setup, django_db_blocker, tmp_path, monkeypatch):
    """The test database as other threads and processes reach it; its DATABASE_URL."""
    request.getfixturevalue("branches_present")  # transactional: no test transaction open
    if POSTGRESQL:
        db = connection.settings_dict
        yield f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        return
    with django_db_blocker.unblock():
        original = connections["default"]
        original.ensure_connection()
        path = tmp_path / "jobs.sqlite3"
        target = sqlite3.connect(path)
        original.connection.backup(target)
        target.close()
        settings_dict = copy.deepcopy(original.settings_dict)
        settings_dict["NAME"] = str(path)
        # New threads connect from the handler's settings; this thread gets the copy now.
        monkeypatch.setitem(connections.settings, "default", settings_dict)
        wrapper = original.__class__(settings_dict, "default")
        connections["default"] = wrapper
        load_branches(apps, None)
        yield f"sqlite:///{path}"
        wrapper.close()
        connections["default"] = original


@pytest.fixture
def queue(settings):
    """Jobs go to the database queue, as in production, instead of running at once."""
    settings.TASKS = DATABASE_BACKEND


def run_worker() -> None:
    """The import worker, once: it sweeps, runs what is queued, and exits."""
    ImportWorker(
        queue_names=["default"],
        excluded_queue_names=[],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
    ).run()


def in_thread(results: dict, key: str, call) -> threading.Thread:
    """Run `call` in a thread with its own database connection; its result (or exception)
    in results[key]."""

    def run():
        try:
            results[key] = call()
        except Exception as error:  # the test asserts on it
            results[key] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def previewed(user, rows=3):
    """An earlier import of one KPI, and a preview changing it and creating `rows` more."""
    load(xlsx([kpi_row(**{"KPI指標": "既存の指標"})]))
    content = xlsx(
        [
            kpi_row(**{"KPI指標": "既存の指標", "実績": "99%"}),
            *(kpi_row(**{"KPI指標": f"新しい指標{n}"}) for n in range(rows)),
        ]
    )
    batch = pipeline.preview(content, "kpi.xlsx", user)
    assert batch.can_commit, batch.errors
    return batch
