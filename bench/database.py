"""The bench's own database: created fresh for each run, never the developer's.

SQLite: the file DATABASE_URL names (the orchestrator points it at bench/.data/). PostgreSQL:
a throwaway database `<name>_bench` next to the one DATABASE_URL names, dropped at the end.
"""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection, models
from django.db.models import Max
from simple_history.models import registered_models

from kpis.models import Kpi, Measure, MonthlyValue


def create_fresh() -> str | None:
    """An empty, migrated database; returns the name to restore for PostgreSQL, else None."""
    if connection.vendor == "sqlite":
        path = Path(settings.DATABASES["default"]["NAME"])
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        call_command("migrate", verbosity=0, interactive=False)
        return None
    original = settings.DATABASES["default"]["NAME"]
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = f"{original}_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return original


def drop(original_name: str | None) -> None:
    if original_name is not None:
        connection.creation.destroy_test_db(original_name, verbosity=0)


def describe() -> str:
    """ "SQLite 3.40.1" / "PostgreSQL 16.4"."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}"
        if connection.vendor == "postgresql":
            cursor.execute("show server_version")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    return connection.display_name


def analyse() -> None:
    """Fresh planner statistics on PostgreSQL, as autovacuum keeps them in production;
    without them the plans after a bulk load are guesses. SQLite is left as the product
    leaves it (no ANALYZE)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def history_marks() -> dict:
    """The newest history row of every audited model, to remove what a run adds after it."""
    return {
        model: model.objects.aggregate(top=Max("history_id"))["top"] or 0
        for model in _historical_models()
    }


def remove_history_after(marks: dict) -> None:
    for model, top in marks.items():
        model.objects.filter(history_id__gt=top)._raw_delete(model.objects.db)


def clear_monthly_values(year: int) -> None:
    _raw_delete_cascade(MonthlyValue.objects.filter(kpi__fiscal_year__start_year=year))


def clear_kpis(year: int) -> None:
    """Measures, activities, KPIs and monthly values of one fiscal year."""
    _raw_delete_cascade(Measure.objects.filter(fiscal_year__start_year=year))
    _raw_delete_cascade(Kpi.objects.filter(fiscal_year__start_year=year))


def _raw_delete_cascade(queryset) -> None:
    """Delete rows and what cascades from them in SQL, without per-row signals.

    Django's delete() would load every row and simple-history would write a "deleted"
    history row for each — minutes of work that is not what the bench measures.
    """
    for relation in queryset.model._meta.related_objects:
        related = relation.related_model._base_manager.filter(
            **{f"{relation.field.name}__in": queryset.values("pk")}
        )
        if relation.on_delete is models.CASCADE:
            _raw_delete_cascade(related)
        elif relation.on_delete is models.SET_NULL:
            related.update(**{relation.field.name: None})
    queryset._raw_delete(queryset.db)


def _historical_models():
    return [
        model.history.model
        for model in registered_models.values()
        if hasattr(model, "history") and hasattr(model.history, "model")
    ]
