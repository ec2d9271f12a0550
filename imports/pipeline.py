"""The import pipeline: read → validate → prepare → apply, and undo.

Same three steps as pretix's importer: the whole file is validated first (validation.py);
then `prepare` reads what the database holds for the file's branches and years in a fixed
number of queries, matches rows on their natural keys and builds the model objects to
create or update in memory; only then a short `transaction.atomic()` writes them with bulk
operations. Re-importing a file changes nothing. Rows in the database that the file does
not mention are left alone.

Each run is an `ImportBatch`. A committed batch records the ids and after-images of the
rows it created and the before- and after-images of the rows it updated, so that it can be
undone as long as nobody changed those rows since.
"""

import functools
import gc
import hashlib
import logging
import time
from contextlib import nullcontext
from functools import partial

from django.db import DatabaseError, transaction
from django.db.models import ForeignKey, IntegerField
from django.utils import timezone

from imports import diff, mapping
from imports.applying import UndoRefused, apply, undo
from imports.models import ImportBatch
from imports.plan import MODEL_ORDER, Analysis, Plan, locked, snapshot
from imports.prepare_kpis import prepare_kpis
from imports.prepare_monthly import prepare_monthly
from imports.problems import Problem
from imports.reading import UnreadableFile, read_workbook
from imports.validation import Validated

__all__ = ["MODEL_ORDER", "UndoRefused", "apply", "snapshot", "undo"]

logger = logging.getLogger(__name__)


MAX_STORED_PROBLEMS = 1000


def read_and_validate(content: bytes, file_name: str, choices: dict | None = None) -> Validated:
    """The file's rows, with the remembered header mappings and `choices` (normalised
    header → column key, "" for 取り込まない) applied; a column that none of them covers is
    a problem naming it (the mapping step)."""
    validated = _validated(content, file_name, choices)
    validated.problems += mapping.unmapped_problems(validated.unmapped)
    return validated


def _validated(content: bytes, file_name: str, choices: dict | None) -> Validated:
    try:
        workbook = read_workbook(content, file_name)
    except UnreadableFile as error:
        return Validated(problems=[Problem(str(error))])
    return mapping.validate_mapped(workbook, choices)


def prepare(validated: Validated, user=None, *, lock=False) -> Plan:
    """Match the validated rows against the database and build the writes, in memory.

    With `lock` (inside the writing transaction) the stored rows read are locked until it
    ends: a person saving one of them meanwhile waits, then finds its version moved on and
    is shown the conflict, instead of the import overwriting the save with a stale image.
    (SQLite takes its write lock when the transaction begins, so this matters on PostgreSQL.)
    """
    if validated.kind == "monthly":
        return prepare_monthly(validated, user, lock)
    return prepare_kpis(validated, lock)


def analyse(content: bytes, file_name: str, choices: dict | None = None) -> Analysis:
    """Read, validate and diff a file without writing anything."""
    return _analysis(read_and_validate(content, file_name, choices))


def _analysis(validated: Validated) -> Analysis:
    analysis = Analysis(validated.kind, list(validated.problems), list(validated.notices))
    if validated.problems or validated.unmapped:
        return analysis
    plan = prepare(validated)
    analysis.plan = plan
    analysis.problems += plan.problems
    analysis.notices += plan.notices
    return analysis


def _batch_for(content: bytes, file_name: str, user) -> ImportBatch:
    return ImportBatch(
        file_name=file_name[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content=content,
        created_by=user if user and user.is_authenticated else None,
    )


# The fields `_record_analysis` sets.
RECORDED_FIELDS = (
    "kind",
    "errors",
    "error_total",
    "notices",
    "warnings",
    "counts",
    "new_indicators",
    "status",
)


def _record_analysis(batch: ImportBatch, analysis: Analysis) -> None:
    batch.kind = analysis.kind if analysis.kind in ImportBatch.Kind.values else ""
    batch.errors = [p.as_dict() for p in analysis.problems[:MAX_STORED_PROBLEMS]]
    batch.error_total = len(analysis.problems)
    batch.notices = analysis.notices
    batch.warnings = [p.as_dict() for p in analysis.warnings[:MAX_STORED_PROBLEMS]]
    if analysis.plan:
        batch.counts = analysis.plan.counts()
        batch.new_indicators = analysis.plan.new_indicators
    if analysis.problems:
        batch.status = ImportBatch.Status.REJECTED


def preview(content: bytes, file_name: str, user, choices: dict | None = None) -> ImportBatch:
    """Analyse an uploaded file and keep it, with what it would change, as a batch."""
    batch = _batch_for(content, file_name, user)
    batch.mapping = choices or {}
    reanalyse(batch)
    return batch


def queued_preview(content: bytes, file_name: str, user) -> ImportBatch:
    """Keep an uploaded file as a batch that a job previews (imports.tasks)."""
    batch = _batch_for(content, file_name, user)
    batch.status = ImportBatch.Status.QUEUED
    batch.heartbeat_at = timezone.now()
    batch.save()
    return batch


OPEN = (ImportBatch.Status.PREVIEWED, ImportBatch.Status.REJECTED)


def reanalyse(batch: ImportBatch, job: str = "") -> bool:
    """Analyse the batch's file with its mapping and record what it would change, row by
    row, over what the batch said. False (nothing saved) when the batch is no longer a
    preview: a confirm or the expiry got to it first — or, for the preview `job` (its id),
    when the batch is no longer running under that job (the sweep failed it)."""
    validated = _validated(bytes(batch.content), batch.file_name, batch.mapping)
    analysis = _analysis(validated)
    same = (
        ImportBatch.objects.filter(sha256=batch.sha256, status=ImportBatch.Status.COMMITTED)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if same:
        analysis.notices.append(f"同じ内容のファイルを 取り込み #{same} で取り込み済みです。")
    batch.status = ImportBatch.Status.PREVIEWED
    batch.counts, batch.new_indicators, batch.diff, batch.protected_plans = [], [], [], []
    batch.diff_total = 0
    _record_analysis(batch, analysis)
    # Waiting for the admin's mapping is not an error: the preview asks for it.
    batch.unmapped = validated.unmapped
    batch.scope = scope_of(validated)
    if analysis.plan and not analysis.problems:
        batch.diff, batch.diff_total = diff.row_diff(analysis.plan, validated)
        batch.protected_plans = diff.protected_plans(analysis.plan)
    if batch.pk is None:
        batch.save()
        return True
    if job:
        batch.task_id = ""  # the job is over: the batch is a preview like any other
    with transaction.atomic():
        held = (
            ImportBatch.objects.select_for_update()
            .filter(pk=batch.pk)
            .values_list("status", "task_id")
            .first()
        )
        if job and held != (ImportBatch.Status.RUNNING, job):
            return False
        if not job and (held is None or held[0] not in OPEN):
            return False
        batch.save()
    return True


def scope_of(validated: Validated) -> list[list]:
    """The (branch code, fiscal year) pairs the file's rows name, sorted."""
    return sorted([branch.code, year] for branch, year in validated.pairs)


class Progress:
    """What a running import tells whoever watches it (imports.tasks passes one that the
    progress page reads); this one tells no one."""

    def stage(self, name: str) -> None:
        """The step it is at: "validating", "preparing", then "writing"."""

    def writing(self, total: int):
        """Around the writes, `total` rows to create or update."""
        return nullcontext()


SILENT = Progress()

# The states a commit writes from: a preview its caller commits there and then, or a batch
# its job claimed (the job's id in task_id) after a confirm queued it.
WRITABLE = (ImportBatch.Status.PREVIEWED, ImportBatch.Status.RUNNING)


def _without_cyclic_gc(function):
    """Run an import with Python's cyclic garbage collector paused: a national workbook
    builds hundreds of thousands of objects that live until the import ends, which the
    collector would scan again and again to free nothing (about a sixth of the job's time,
    docs/PERFORMANCE.md). Reference counting still frees what the import drops."""

    @functools.wraps(function)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused


@_without_cyclic_gc
def commit(
    batch: ImportBatch, user, *, confirm_warnings: bool = False, progress: Progress = SILENT
) -> ImportBatch:
    """Validate the kept file again and write it, all or nothing.

    Every change of the batch's state is made under its row lock, and only while the batch
    is still in the state the caller holds (status and job): one that another confirm queued,
    wrote or failed meanwhile is returned as it is, never rewritten. A file with warnings
    is written only with `confirm_warnings`; without it the batch goes back to be confirmed.
    """
    if batch.status not in WRITABLE:
        return batch
    held = (batch.status, batch.task_id)
    progress.stage("validating")
    validated = read_and_validate(bytes(batch.content), batch.file_name, batch.mapping)
    if validated.problems:
        analysis = Analysis(validated.kind, validated.problems, validated.notices)
        return _settle(batch.pk, held, partial(_send_back, analysis=analysis))
    progress.stage("preparing")
    started = time.monotonic()
    plan = prepare(validated, user)  # outside the write transaction: see _write
    logger.info("Import #%s read and prepared in %.1f s", batch.pk, time.monotonic() - started)
    try:
        with transaction.atomic():
            if _locked_state(batch.pk) != held:
                return ImportBatch.objects.defer("content").get(pk=batch.pk)
            _write(batch, validated, user, confirm_warnings, progress, plan)
    except _Rejected as rejected:
        return _settle(batch.pk, held, partial(_send_back, analysis=rejected.analysis))
    except DatabaseError:
        logger.exception("Import #%s failed while writing", batch.pk)
        return _settle(batch.pk, held, _failed_writing)
    return batch


def _locked_state(pk: int) -> tuple:
    """The batch's (status, job) as stored, its row locked until the transaction ends; not
    the batch itself, whose preview diff is megabytes of JSON for a national workbook."""
    return (
        ImportBatch.objects.select_for_update().filter(pk=pk).values_list("status", "task_id").get()
    )


def _locked(pk: int) -> ImportBatch:
    """The batch as stored, locked until the transaction ends (without the file)."""
    return ImportBatch.objects.select_for_update().defer("content").get(pk=pk)


def _settle(pk: int, held: tuple, change) -> ImportBatch:
    """Record how a commit ended, in its own short transaction under the batch's lock, and
    only while the batch is in the state the commit held: never over a batch another
    confirm wrote meanwhile (e.g. this one's write timed out waiting for SQLite's lock
    while the other was writing)."""
    try:
        with transaction.atomic():
            batch = _locked(pk)
            if (batch.status, batch.task_id) == held:
                change(batch)
                batch.save()
    except DatabaseError:
        # Still busy: the batch keeps its state (a job's batch is failed by the worker's
        # sweep once its heartbeat has stopped, imports.tasks.sweep).
        logger.exception("Import #%s: could not record how the commit ended", pk)
        batch = ImportBatch.objects.defer("content").get(pk=pk)
    return batch


def _send_back(batch: ImportBatch, *, analysis: Analysis) -> None:
    """Errors reject the file; new warnings send it back to the preview to be confirmed."""
    _record_analysis(batch, analysis)
    if not analysis.problems:
        batch.status = ImportBatch.Status.PREVIEWED


def _failed_writing(batch: ImportBatch) -> None:
    batch.status = ImportBatch.Status.FAILED
    batch.errors = [
        Problem(
            "保存中にデータベースのエラーが起きたため、何も変更していません。"
            "もう一度アップロードしてお試しください。"
        ).as_dict()
    ]
    batch.error_total = 1


@_without_cyclic_gc
def import_file(
    content: bytes, file_name: str, user=None, *, dry_run=False, confirm_warnings=False
):
    """The command-line path: (batch or None, analysis). Writes nothing unless the whole
    file is valid and its warnings, if any, are confirmed; the batch is created in the same
    transaction as the rows."""
    if dry_run:
        return None, analyse(content, file_name)
    validated = read_and_validate(content, file_name)
    if validated.problems:
        return None, Analysis(validated.kind, validated.problems, validated.notices)
    batch = _batch_for(content, file_name, user)
    batch.scope = scope_of(validated)
    plan = prepare(validated, user)
    try:
        with transaction.atomic():
            batch.kind = validated.kind
            batch.save()
            analysis = _write(batch, validated, user, confirm_warnings, plan=plan)
    except _Rejected as rejected:
        return None, rejected.analysis
    return batch, analysis


class _Rejected(Exception):
    def __init__(self, analysis: Analysis):
        self.analysis = analysis


def _write(
    batch: ImportBatch,
    validated: Validated,
    user,
    confirmed: bool,
    progress: Progress = SILENT,
    plan: Plan | None = None,
) -> Analysis:
    """Write inside the caller's transaction. `plan`, prepared before it began (reading a
    national workbook's rows takes tens of seconds, during which SQLite's one write lock
    would keep every person's save waiting), is written when what it read is still what
    the database holds; otherwise the file is prepared again here, its rows locked."""
    started = time.monotonic()
    again = plan is None or not still_current(plan)
    checked = time.monotonic() - started
    if again:
        progress.stage("preparing")
        plan = prepare(validated, user, lock=True)
    analysis = Analysis(validated.kind, plan.problems, validated.notices + plan.notices, plan)
    if plan.problems or (plan.warnings and not confirmed):
        raise _Rejected(analysis)
    total = sum(row["create"] + row["update"] for row in plan.counts())
    with progress.writing(total):
        batch.changes = apply(plan, batch, user, confirmed=confirmed)
    _record_analysis(batch, analysis)
    batch.status = ImportBatch.Status.COMMITTED
    batch.committed_at = timezone.now()
    batch.progress_done = batch.progress_total = total
    # Only what committing sets: the file and the preview's row diff (megabytes for a
    # national workbook) stay as they are stored.
    committed = ("changes", "committed_at", "progress_done", "progress_total")
    batch.save(update_fields=[*RECORDED_FIELDS, *committed])
    logger.info(
        "Import #%s (%s) committed by %s; its transaction took %.1f s (%s, checked in %.1f s)",
        batch.pk,
        batch.file_name,
        user,
        time.monotonic() - started,
        "prepared again under the lock" if again else "as prepared before it",
        checked,
    )
    return analysis


# Rows compared per query in `still_current`: well under SQLite's bound on parameters.
CHECK_CHUNK = 2000


def still_current(plan: Plan) -> bool:
    """Whether the rows `plan` would write are as it read them: each row it updates is at
    the version it read (rows without a version: the same values), and no row it creates
    exists yet (by the model's unique keys). Called inside the writing transaction; the
    rows it updates stay locked until that ends (PostgreSQL; SQLite holds its one write
    lock already), so none moves between this check and the write.

    Rows the plan leaves as they are may have moved since: the import then is as if it had
    run just before that save, which leaves them as the person saved them."""
    for model in MODEL_ORDER:
        change = plan[model]
        if change.update and not _updates_current(model, change):
            return False
        if change.create and _any_exists(model, change.create):
            return False
    return True


def _updates_current(model, change) -> bool:
    versioned = any(f.attname == "version" for f in model._meta.concrete_fields)
    ids = [obj.pk for obj in change.update]
    read = {obj.pk: obj.version for obj in change.update} if versioned else change.before
    for start in range(0, len(ids), CHECK_CHUNK):
        chunk = model.objects.filter(pk__among=ids[start : start + CHECK_CHUNK]).order_by()
        rows = locked(chunk, True)
        if versioned:
            current = dict(rows.values_list("pk", "version"))
        else:
            current = {obj.pk: snapshot(obj) for obj in rows}
        if any(current.get(pk) != read[pk] for pk in ids[start : start + CHECK_CHUNK]):
            return False
    return True


def _any_exists(model, objects: list) -> bool:
    """Whether a stored row shares a unique key with one of `objects` (keys naming a parent
    the plan creates too are left out: that parent's own keys are checked)."""
    for names in _unique_keys(model):
        firsts = sorted({v for obj in objects if (v := getattr(obj, names[0])) is not None})
        keys = None  # built once a stored row turns up: an import into an empty year has none
        # Keys (a parent's id) as they are: `__among` (kpis.lookups); other values prepared.
        field = model._meta.get_field(names[0])
        lookup = "among" if isinstance(field, IntegerField | ForeignKey) else "in"
        for start in range(0, len(firsts), CHECK_CHUNK):
            chunk = firsts[start : start + CHECK_CHUNK]
            stored = model.objects.filter(**{f"{names[0]}__{lookup}": chunk}).order_by()
            stored = stored.values_list(*names)
            for row in stored:
                if keys is None:
                    keys = {tuple(getattr(obj, name) for name in names) for obj in objects}
                    keys = {key for key in keys if None not in key}  # NULLs never clash
                if tuple(row) in keys:
                    return True
    return False


@functools.cache
def _unique_keys(model) -> tuple[tuple[str, ...], ...]:
    """The attribute names of each unique key of `model` (unique fields and constraints)."""
    keys = [(f.attname,) for f in model._meta.concrete_fields if f.unique and not f.primary_key]
    fields = [c.fields for c in model._meta.total_unique_constraints if c.fields]
    for names in [*fields, *model._meta.unique_together]:
        keys.append(tuple(model._meta.get_field(name).attname for name in names))
    return tuple(keys)


def summary_lines(analysis: Analysis) -> list[str]:
    """What the commands print: counts per model, new indicators, notices."""
    lines = []
    if analysis.plan:
        for row in analysis.plan.counts():
            lines.append(
                f"{row['label']}: 作成 {row['create']} / 更新 {row['update']} / "
                f"変更なし {row['unchanged']} / ファイルにない既存 {row['untouched']}"
            )
        if analysis.plan.new_indicators:
            lines.append("新しく作成する指標: " + "、".join(analysis.plan.new_indicators))
    lines += analysis.notices
    return lines
