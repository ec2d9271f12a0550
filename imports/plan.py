"""What an import compares and would write: row snapshots, the per-model changes (Plan)
and what a preview shows (Analysis)."""

import functools
import operator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.db import models

from imports.problems import Problem
from kpis import bulk, writes
from kpis.models import (
    Activity,
    BranchPlan,
    FiscalYear,
    Indicator,
    Kpi,
    Measure,
    MonthlyBreakdown,
    MonthlyValue,
    Pillar,
)
from kpis.notation import Kind, Reading

# Parents before children: the order rows are created in (and deleted in reverse).
MODEL_ORDER = [
    FiscalYear,
    Pillar,
    Indicator,
    BranchPlan,
    Measure,
    Activity,
    Kpi,
    MonthlyValue,
    MonthlyBreakdown,
]


# Fields that say who/when, not what: not compared, never restored.
BOOKKEEPING = {"updated_at", "updated_by", "version"}


BATCH_SIZE = 500


@functools.cache
def tracked_fields(model) -> tuple[models.Field, ...]:
    # A KPI's outlook follows its months (kpis.writes.refresh_outlooks): an import neither
    # writes nor restores it, and a month entered since does not block an undo.
    derived = getattr(model, "OUTLOOK_FIELDS", ())
    return tuple(
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and f.name not in BOOKKEEPING and f.name not in derived
    )


def snapshot(obj) -> dict:
    """The row's tracked values as JSON, decimals at their stored precision."""
    image = {}
    for name, to_json, plain in _snapshot_fields(type(obj)):
        value = getattr(obj, name)
        # Most values are JSON already: converted only when not (undoing a national
        # import compares 30,000 rows' snapshots; many rows at once: `snapshot_rows`).
        image[name] = value if plain and type(value) in _JSON_TYPES else to_json(value)
    return image


def before_images(objects: list, before: dict[str, list]) -> dict:
    """{pk: `snapshot` of the object as it was} of objects of one model whose fields named in
    `before` were set since they were read: {attname: the old values, in the order of
    `objects`}. Built as `snapshot_rows` builds them (a national re-import changes 30,000)."""
    if not objects:
        return {}
    names = snapshot_names(type(objects[0]))
    rows = snapshot_rows(objects, replaced=before)
    return {
        obj.pk: dict(zip(names, row, strict=True)) for obj, row in zip(objects, rows, strict=True)
    }


def snapshot_names(model) -> list[str]:
    """The names of `snapshot_rows`' values, in order."""
    return [name for name, _, _ in _snapshot_fields(model)]


def snapshot_rows(objects: list, replaced: dict[str, list] | None = None) -> list[tuple]:
    """`snapshot` of each of `objects` (one model) without the names, in `snapshot_names`
    order; `replaced`: {attname: values in the order of `objects`} taken instead of the
    objects' own. Column by column: a national import images 30,000 rows it creates, and
    only a column holding something other than JSON's types (the decimals) is converted."""
    replaced = replaced or {}
    columns = []
    for name, to_json, plain in _snapshot_fields(type(objects[0])):
        column = replaced.get(name)
        if column is None:
            column = list(map(operator.attrgetter(name), objects))
        if not (plain and set(map(type, column)) <= _JSON_TYPES):
            column = list(map(bulk.once_per_object(to_json), column))
        columns.append(column)
    return list(zip(*columns, strict=True))


# Values _jsonable returns as they are, for any field but a decimal one.
_JSON_TYPES = frozenset({str, int, bool, float, type(None)})


@functools.cache
def _snapshot_fields(model) -> tuple:
    return tuple(
        (
            f.attname,
            functools.partial(_jsonable, f),
            not isinstance(f, models.DecimalField),
        )
        for f in tracked_fields(model)
    )


def _jsonable(field_, value):
    if value is None:
        return None
    if isinstance(field_, models.DecimalField):
        return _decimal_text(value, field_.decimal_places)
    if isinstance(value, str | int | bool | float | dict | list):  # dict, list: JSON fields
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


@functools.lru_cache(maxsize=1 << 14)
def _decimal_text(value: Decimal, places: int) -> str:
    # Cached on equality: 95.3 and 95.30 quantize to the same text.
    return format(Decimal(value).quantize(Decimal(1).scaleb(-places)), "f")


def restore(obj, image: dict) -> None:
    for f in tracked_fields(type(obj)):
        if f.attname in image:
            setattr(obj, f.attname, f.to_python(image[f.attname]))


def model_label(model) -> str:
    return model._meta.label_lower


def has_history(model) -> bool:
    return hasattr(model._meta, "simple_history_manager_attribute")


@dataclass
class ModelChanges:
    create: list = field(default_factory=list)
    update: list = field(default_factory=list)
    before: dict = field(default_factory=dict)  # pk → snapshot before the import
    unchanged: int = 0
    untouched: int = 0

    def keep_or_update(self, obj, before: dict) -> None:
        """Count a row the file names: unchanged, or to update."""
        if not self.update_if_changed(obj, before):
            self.unchanged += 1

    def update_if_changed(self, obj, before: dict) -> bool:
        if snapshot(obj) == before:
            return False
        if obj.pk not in self.before:
            self.before[obj.pk] = before
            self.update.append(obj)
        return True


@dataclass
class Plan:
    kind: str
    changes: dict = field(default_factory=lambda: {m: ModelChanges() for m in MODEL_ORDER})
    problems: list[Problem] = field(default_factory=list)
    # Implausible values (kpis.checks): written only when the admin confirms them.
    warnings: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    new_indicators: list[str] = field(default_factory=list)
    # KPIs whose row sets a person's mark (結果): their mark is fresh, not stale.
    marks_set: list = field(default_factory=list)
    # The value check of a monthly workbook's cells, handed on to the write path.
    checked: writes.Checked | None = None

    def __getitem__(self, model) -> ModelChanges:
        return self.changes[model]

    @property
    def has_changes(self) -> bool:
        return any(c.create or c.update for c in self.changes.values())

    def counts(self) -> list[dict]:
        rows = []
        for model, change in self.changes.items():
            row = {
                "model": model._meta.model_name,
                "label": str(model._meta.verbose_name),
                "create": len(change.create),
                "update": len(change.update),
                "unchanged": change.unchanged,
                "untouched": change.untouched,
            }
            if any(row[k] for k in ("create", "update", "unchanged", "untouched")):
                rows.append(row)
        return rows


@dataclass
class Analysis:
    """Everything a preview shows: problems block, warnings need a confirmation; the plan
    says what would change."""

    kind: str = ""
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    plan: Plan | None = None

    @property
    def warnings(self) -> list[Problem]:
        return self.plan.warnings if self.plan else []


def locked(queryset, lock: bool):
    return queryset.select_for_update(of=("self",)) if lock else queryset


def is_bare_number(reading: Reading) -> bool:
    return reading.kind is Kind.NUMBER and reading.unit == "" and reading.value is not None


def say_what_stays(plan: Plan) -> None:
    left = [
        f"{model._meta.verbose_name} {change.untouched}件"
        for model, change in plan.changes.items()
        if change.untouched
    ]
    if left:
        plan.notices.append(
            f"ファイルにない既存の行（{'、'.join(left)}）は変更せず、そのまま残ります。"
        )
