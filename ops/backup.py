"""Backup and restore of the whole database, for SQLite and PostgreSQL.

SQLite uses the online backup API (a consistent copy while the app runs); PostgreSQL uses
pg_dump's custom format and pg_restore, from the server's own client package.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is for the operator."""


def _vendor() -> str:
    if connection.vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"{connection.vendor} のバックアップには対応していません。")
    return connection.vendor


def _pg_env() -> dict[str, str]:
    settings = connection.settings_dict
    env = {**os.environ}
    for key, name in [
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ]:
        if settings.get(key):
            env[name] = str(settings[key])
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
        if not candidates:
            raise BackupError(f"{name} が見つかりません（PostgreSQL のクライアントが必要です）。")
        path = str(candidates[-1])
    return path


def _run(command: list[str]) -> None:
    result = subprocess.run(command, env=_pg_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} が失敗しました: {result.stderr.strip()}")


def backup(target: Path) -> str:
    """Write a backup of the current database to `target`; returns the database kind."""
    vendor = _vendor()
    target.parent.mkdir(parents=True, exist_ok=True)
    if vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(target) as copy:
            connection.connection.backup(copy)
        copy.close()
    else:
        _run(
            [
                _pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={target}",
            ]
        )
    return vendor


def restore(source: Path) -> str:
    """Replace the current database's content with the backup in `source`."""
    vendor = _vendor()
    if not source.is_file():
        raise BackupError(f"バックアップファイル {source} がありません。")
    with source.open("rb") as file:
        header = file.read(len(SQLITE_MAGIC))
    if vendor == "sqlite":
        if not header.startswith(SQLITE_MAGIC):
            raise BackupError(f"{source} は SQLite のバックアップではありません。")
        connection.ensure_connection()
        with sqlite3.connect(source) as backup_db:
            backup_db.backup(connection.connection)
        backup_db.close()
    else:
        if not header.startswith(PG_DUMP_MAGIC):
            raise BackupError(f"{source} は pg_dump（custom 形式）のバックアップではありません。")
        connection.close()
        _run(
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                f"--dbname={_pg_env()['PGDATABASE']}",
                str(source),
            ]
        )
    return vendor
