"""Step 3 and its reverse: write a plan inside the caller's transaction, and undo a batch."""

import logging
from collections import defaultdict

from django.apps import apps
from django.db import router, transaction
from django.db.models.deletion import Collector
from django.utils import timezone

from imports.models import ImportBatch
from imports.plan import (
    BATCH_SIZE,
    MODEL_ORDER,
    ModelChanges,
    Plan,
    has_history,
    locked,
    model_label,
    restore,
    snapshot,
    snapshot_names,
    snapshot_rows,
    tracked_fields,
)
from kpis import bulk, writes
from kpis.models import (
    Indicator,
    Kpi,
    MonthlyBreakdown,
    MonthlyValue,
)

logger = logging.getLogger(__name__)


def apply(plan: Plan, batch: ImportBatch, user, *, confirmed: bool = False) -> dict:
    """Write the plan inside the caller's transaction; returns what undo needs.

    KPIs and monthly values go through the write path (kpis.writes), which checks them,
    raises their versions, evaluates them and their neighbours and keeps their history;
    `confirmed` says the admin confirmed the plan's warnings."""
    source = writes.Source(writes.Channel.IMPORT, user, f"#{batch.pk}", confirmed=confirmed)
    now = timezone.now()
    record = {"created": {}, "updated": {}}
    for model in MODEL_ORDER:
        change = plan[model]
        versions = {o.pk: o.version for o in change.update if hasattr(o, "version")}
        if model is Kpi:
            _relink(change.create + change.update)
            writes.save_kpis(change.create + change.update, source, marks_set=plan.marks_set)
        elif model is MonthlyValue:
            indicators = {i.pk: i for i in Indicator.objects.all()}
            writes.write_monthly_values(
                change.create, change.update, source, indicators=indicators, checked=plan.checked
            )
        elif model is MonthlyBreakdown:
            writes.write_breakdowns(change.create, change.update, source)
        else:
            write_parents(model, change, source, now)
        if change.create:
            record["created"][model_label(model)] = _created_images(change.create)
        if change.update:
            record["updated"][model_label(model)] = _updated_images(change, versions)
    return record


def _updated_images(change: ModelChanges, versions: dict) -> dict:
    """The rows a batch updated, column by column as `_created_images` keeps created rows:
    {"fields": names, "rows": [[id, version, version before, *after, *before], …],
    "undone": {id: version its undo left}}."""
    objects = change.update
    names = snapshot_names(type(objects[0]))
    versioned = hasattr(objects[0], "version")
    rows = []
    for obj, after in zip(objects, snapshot_rows(objects), strict=True):
        before = change.before[obj.pk]
        version = obj.version if versioned else None
        rows.append([obj.pk, version, versions.get(obj.pk), *after, *map(before.get, names)])
    return {"fields": names, "rows": rows, "undone": {}}


def _created_images(objects: list) -> dict:
    """The after-images of the rows a batch created, column by column: {"fields": names,
    "rows": [[id, version, value, …], …]}. A national workbook creates 30,000 rows, and an
    image per row with its field names was a tenth of the job (built, then stored as JSON)."""
    versioned = hasattr(objects[0], "version")
    return {
        "fields": snapshot_names(type(objects[0])),
        "rows": [
            [obj.pk, obj.version if versioned else None, *after]
            for obj, after in zip(objects, snapshot_rows(objects), strict=True)
        ],
    }


def created_entries(changes: dict) -> dict[str, list[dict]]:
    """{model label: [{"id", "after", "version"}, …]} of the rows a batch created, from its
    record in either form: column by column, or one image per row (batches committed before
    the column form)."""
    entries = {}
    for label, images in changes.get("created", {}).items():
        if isinstance(images, dict):
            names = images["fields"]
            images = [
                {"id": row[0], "version": row[1], "after": dict(zip(names, row[2:], strict=True))}
                for row in images["rows"]
            ]
        entries[label] = images
    return entries


def updated_entries(changes: dict) -> dict[str, list[dict]]:
    """{model label: [{"id", "after", "version", "before", "before_version",
    "undone_version"}, …]} of the rows a batch updated, from its record in either form."""
    entries = {}
    for label, images in changes.get("updated", {}).items():
        if isinstance(images, dict):
            names, undone = images["fields"], images.get("undone", {})
            width = len(names)
            images = [
                {
                    "id": row[0],
                    "version": row[1],
                    "before_version": row[2],
                    "after": dict(zip(names, row[3 : 3 + width], strict=True)),
                    "before": dict(zip(names, row[3 + width :], strict=True)),
                    "undone_version": undone.get(str(row[0])),
                }
                for row in images["rows"]
            ]
        entries[label] = images
    return entries


def _record_undone(changes: dict, updated: dict) -> None:
    """Keep the versions an undo left on the rows it restored, in the batch's record (a
    record in rows of images has them set on its own entries already)."""
    for model, entries in updated.items():
        images = changes["updated"][model_label(model)]
        if isinstance(images, dict):
            images["undone"] = {
                str(e["id"]): e["undone_version"]
                for e in entries
                if e.get("undone_version") is not None
            }


def _relink(kpis) -> None:
    """The parents a KPI was built with were created since: take their new keys."""
    for kpi in kpis:
        kpi.fiscal_year, kpi.indicator, kpi.measure = kpi.fiscal_year, kpi.indicator, kpi.measure


def write_parents(model, change: ModelChanges, source, now) -> None:
    """Years, pillars, indicators, plans, measures and activities, with a history row each
    where the model keeps history: a form that carries a measure's or an activity's stamp
    (kpis.writes.report_stamps) finds out that an import changed it."""
    reason, user = source.reason(), source.history_user
    if change.create:
        model.objects.bulk_create(change.create, batch_size=BATCH_SIZE)
        _history(model, change.create, user, reason, now, "+")
    if change.update:
        names = [f.name for f in tracked_fields(model)]
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            for obj in change.update:
                obj.updated_at = now
            names.append("updated_at")
        bulk.update(model, change.update, names)
        _history(model, change.update, user, reason, now, "~")


def _history(model, objects, user, reason: str, now, history_type: str) -> None:
    """The rows' history copied in SQL (kpis.bulk), as monthly values get theirs: with the
    UPDATE by key it keeps a workbook's measures and activities cheap to write (Django's
    bulk_update builds a CASE per row and field; simple-history builds every row in Python)."""
    if has_history(model):
        reasons = dict.fromkeys(map(id, objects), reason)
        bulk.insert_history(
            model, objects, user=user, date=now, reasons=reasons, history_type=history_type
        )


class UndoRefused(Exception):
    """The batch cannot be undone; the message says why and what to do."""


def undo(batch: ImportBatch, user) -> ImportBatch:
    """Restore what a committed batch changed: before-images back, created rows deleted.

    Refused (UndoRefused, nothing changed) when a later import or a person changed any of
    those rows since — a raised version counts, even when the value was changed back — or
    added rows under the rows it created. KPIs and monthly values are restored and deleted
    through the write path, so their neighbours are evaluated again.
    """
    source = writes.Source(writes.Channel.UNDO, user, f"#{batch.pk}", confirmed=True)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != ImportBatch.Status.COMMITTED:
            raise UndoRefused(
                f"取り込み #{batch.pk} は「{batch.get_status_display()}」のため取り消せません。"
            )
        created = {apps.get_model(k): v for k, v in created_entries(batch.changes).items()}
        updated = {apps.get_model(k): v for k, v in updated_entries(batch.changes).items()}
        current = {}
        for model in MODEL_ORDER:
            ids = [e["id"] for e in created.get(model, []) + updated.get(model, [])]
            if ids:
                related = ("fiscal_year", "indicator") if model is Kpi else ()
                found = model.objects.filter(pk__in=ids).select_related(*related)
                current[model] = {o.pk: o for o in locked(found, True)}
        _refuse_if_changed(batch, created, updated, current)

        now = timezone.now()
        for model in MODEL_ORDER:
            if not updated.get(model):
                continue
            objects, marks_set = [], []
            for entry in updated[model]:
                obj = current[model][entry["id"]]
                before = entry["before"]
                if model is Kpi and any(before[f] != getattr(obj, f) for f in Kpi.MARK_FIELDS):
                    marks_set.append(obj)
                restore(obj, entry["before"])
                objects.append(obj)
            if model is Kpi:
                writes.save_kpis(objects, source, marks_set=marks_set)
            elif model is MonthlyValue:
                indicators = {i.pk: i for i in Indicator.objects.all()}
                writes.write_monthly_values([], objects, source, indicators=indicators)
            elif model is MonthlyBreakdown:
                writes.write_breakdowns([], objects, source)
            else:
                change = ModelChanges(update=objects)
                write_parents(model, change, source, now)
            # What the rows' versions became: an earlier batch's undo follows the hop.
            for entry, obj in zip(updated[model], objects, strict=True):
                if hasattr(obj, "version"):
                    entry["undone_version"] = obj.version

        _refuse_if_depended_on(batch, created)
        for model in reversed(MODEL_ORDER):
            objects = list(current.get(model, {}).get(e["id"]) for e in created.get(model, []))
            if not objects:
                continue
            if model is Kpi:
                writes.delete_kpis(objects, source)
            elif model is MonthlyValue:
                writes.delete_monthly_values(objects, source)
            elif model is MonthlyBreakdown:
                writes.delete_breakdowns(objects, source)
            else:
                for obj in objects:
                    obj._change_reason = source.reason()
                    obj._history_user = source.history_user
                collector = Collector(using=router.db_for_write(model))
                collector.collect(objects)
                collector.delete()

        _record_undone(batch.changes, updated)
        batch.status = ImportBatch.Status.UNDONE
        batch.undone_by = user if user and user.is_authenticated else None
        batch.undone_at = now
        batch.save()
    logger.info("Import #%s undone by %s", batch.pk, user)
    return batch


def _refuse_if_changed(batch, created, updated, current) -> None:
    """Every row the batch wrote must be as it left it: the same values and the same
    version — or versions that only later batches, undone since, moved on."""
    hops = _undone_hops(batch)
    changed = defaultdict(int)
    for entries in (created, updated):
        for model, rows in entries.items():
            for entry in rows:
                obj = current.get(model, {}).get(entry["id"])
                if obj is None or snapshot(obj) != entry["after"]:
                    changed[model] += 1
                elif hasattr(obj, "version"):
                    version = obj.version
                    hop = hops.get((model_label(model), obj.pk), {})
                    while version != entry["version"] and version in hop:
                        version = hop[version]
                    changed[model] += version != entry["version"]
    changed = {model: n for model, n in changed.items() if n}
    if changed:
        which = "、".join(f"{m._meta.verbose_name} {n}件" for m, n in changed.items())
        raise UndoRefused(
            f"取り込み #{batch.pk} の後に、この取り込みで書いた行（{which}）が、後の取り込みか"
            "画面からの入力で変更または削除されています。後の変更を先に取り消すか、"
            "手で直してください。"
        )


def _undone_hops(batch) -> dict:
    """{(model label, id): {version after an undo: version before that batch}} of the
    later batches that were undone."""
    hops = defaultdict(dict)
    later = ImportBatch.objects.filter(pk__gt=batch.pk, status=ImportBatch.Status.UNDONE)
    for changes in later.values_list("changes", flat=True):
        for label, rows in updated_entries(changes).items():
            for entry in rows:
                if entry.get("undone_version") is not None:
                    hops[(label, entry["id"])][entry["undone_version"]] = entry["before_version"]
    return hops


def _refuse_if_depended_on(batch, created) -> None:
    """Rows added later under rows this batch created would be deleted with them."""
    ids = {model: {e["id"] for e in rows} for model, rows in created.items()}
    found = defaultdict(int)
    for model, own in ids.items():
        for relation in model._meta.related_objects:
            if relation.many_to_many or relation.related_model._meta.auto_created:
                continue
            related = relation.related_model
            children = related._base_manager.filter(**{f"{relation.field.name}__in": own})
            others = children.exclude(pk__in=ids.get(related, set())).count()
            if others:
                found[related] += others
    if found:
        which = "、".join(f"{m._meta.verbose_name} {n}件" for m, n in found.items())
        raise UndoRefused(
            f"取り込み #{batch.pk} で作成した行の下に、後から追加されたデータ（{which}）が"
            "あります。取り消すとそれらも消えるため、取り消せません。"
        )
