"""Backup and restore round trip: restore into a fresh database and compare full exports.

Runs against the same kind of database as the suite (SQLite by default, PostgreSQL when
DATABASE_URL names one), each time on two scratch databases of its own.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from environ import Env

ROOT = Path(__file__).resolve().parent.parent

SEED = """
from kpis.models import MonthlyValue
from tests.factories import KpiFactory, MonthlyValueFactory, admin_user
admin_user()
kpi = KpiFactory(target_text="96.5%以上", actual_text="95.0%")
MonthlyValueFactory(kpi=kpi, month=4, text="95.3%")
MonthlyValueFactory(kpi=kpi, month=5, text="△2", series=MonthlyValue.Series.CUMULATIVE)
kpi.actual_text = "97.0%"
kpi.save()
"""
# Migrate, seed, back up with the command, then the full export on stdout, as dumpdata gives it.
SOURCE = (
    "import io\n"
    "from django.core.management import call_command\n"
    "call_command('migrate', interactive=False, verbosity=0)\n"
    + SEED
    + "call_command('backup_db', '--output', {backup!r}, stdout=io.StringIO())\n"
    "call_command('dumpdata', indent=1)\n"
)


def manage(database_url, *args):
    env = {**os.environ, "DATABASE_URL": database_url}
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result


def ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def scratch_databases(tmp_path):
    """Two empty databases of the suite's kind: (source URL, destination URL)."""
    suite_url = os.environ.get("DATABASE_URL", "")
    if not suite_url.startswith("postgres"):
        yield (
            f"sqlite:///{tmp_path / 'source.sqlite3'}",
            f"sqlite:///{tmp_path / 'restored.sqlite3'}",
        )
        return
    server = Env.db_url_config(suite_url)
    names = [f"kpi_backup_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("source", "restored")]
    params = {
        "host": server["HOST"],
        "port": server["PORT"],
        "user": server["USER"],
        "password": server["PASSWORD"],
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**params) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    base = suite_url.rsplit("/", 1)[0]
    yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    with psycopg.connect(**params) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_restore_into_a_fresh_database_gives_the_same_full_export(scratch_databases, tmp_path):
    source, restored = scratch_databases
    backup_file = tmp_path / "kpi.backup"
    # The source side in one process (each start of manage.py costs a second or more).
    before = ok(manage(source, "shell", "-v0", "-c", SOURCE.format(backup=str(backup_file))))

    ok(manage(restored, "restore_db", str(backup_file), "--yes"))
    after = ok(manage(restored, "dumpdata", "--indent", "1"))

    assert '"actual_text": "97.0%"' in before  # the export holds the data and its history
    assert '"text": "△2"' in before
    assert after == before


def test_restore_refuses_without_confirmation(scratch_databases, tmp_path):
    _, restored = scratch_databases
    result = manage(restored, "restore_db", str(tmp_path / "missing.backup"))
    assert result.returncode != 0
    assert "--yes" in result.stderr


def test_restore_refuses_a_file_that_is_not_a_backup(scratch_databases, tmp_path):
    _, restored = scratch_databases
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("これはバックアップではありません")
    result = manage(restored, "restore_db", str(not_a_backup), "--yes")
    assert result.returncode != 0
    assert "バックアップではありません" in result.stderr
