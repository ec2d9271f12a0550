"""Import jobs: a confirmed preview is written by a background worker, not in the request.

Confirming marks the batch QUEUED under its row lock (a second confirm finds it taken) and
enqueues `write_batch` on Django's tasks framework (django-tasks, database backend: the
queue lives in the application's database). The worker (`manage.py import_worker`) claims
the batch (QUEUED → RUNNING, under the lock) and commits it through the pipeline.

Progress and heartbeat go through the "import_jobs" cache, not the batch row: the job
writes the whole file in one transaction, which on SQLite holds the database's only write
lock, and its own updates of the batch stay invisible to the web process until the end.
The cache (a directory shared by both processes, see config/settings.py) is written by the
job's heartbeat thread and read by the progress page and the sweep, under the job's id.

A large upload is previewed the same way (`preview_batch`): the upload view keeps the file as
a QUEUED batch that has no kind yet (a confirmed one always has), and the job records the
analysis as a synchronous preview would, under the batch's lock, unless the sweep failed
it meanwhile. It writes no KPI data, so it holds no write lock for long.

A job whose process died (killed, out of memory, the machine restarted) wrote nothing: its
transaction died with it. `sweep` marks its batch FAILED once its heartbeat has stopped;
the worker runs it when it starts and after every job, with the previews' expiry.
"""

import logging
import re
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, default_task_backend, task
from django_tasks.exceptions import TaskResultDoesNotExist

from imports import pipeline
from imports.expiry import expire_previews
from imports.models import ImportBatch
from imports.plan import MODEL_ORDER
from imports.problems import Problem

logger = logging.getLogger(__name__)

Status = ImportBatch.Status
IN_PROGRESS = (Status.QUEUED, Status.RUNNING)
STAGES = {
    "queued": "処理の順番を待っています",
    "previewing": "ファイルを読み込み、変更点を確認しています",
    "validating": "ファイルをもう一度検証しています",
    "preparing": "変更する行を準備しています",
    "writing": "書き込んでいます",
}
STOPPED = (
    "取り込みの処理が途中で止まりました（ワーカーの停止など）。何も変更していません。"
    "もう一度アップロードして確定してください。"
)
PREVIEW_STOPPED = (
    "ファイルの確認の処理が途中で止まりました（ワーカーの停止など）。何も変更していません。"
    "もう一度アップロードしてください。"
)
NOT_QUEUED = (
    "取り込みの処理を受け付けられませんでした。何も変更していません。もう一度お試しください。"
)


def enqueue(batch: ImportBatch, user, *, confirm_warnings: bool) -> bool:
    """Queue the batch's commit. False when the batch is no longer a preview (another confirm
    took it first): nothing queued, the batch untouched."""
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().only("status").get(pk=batch.pk)
        if locked.status != Status.PREVIEWED:
            return False
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=Status.QUEUED,
            task_id="",
            heartbeat_at=timezone.now(),
            progress_done=0,
            progress_total=0,
        )
    try:
        result = write_batch.enqueue(batch.pk, user.pk, confirm_warnings)
    except DatabaseError:
        logger.exception("Import #%s could not be queued", batch.pk)
        _finish(batch.pk, (Status.QUEUED, ""), Status.FAILED, NOT_QUEUED)
        return True
    # A worker (or the immediate backend) may have claimed it already and set its id.
    ImportBatch.objects.filter(pk=batch.pk, task_id="").update(task_id=result.id)
    return True


@task(takes_context=True)
def write_batch(context, batch_pk: int, user_pk: int | None, confirm_warnings: bool) -> str:
    """The job: claim the queued batch and commit it; its final status."""
    job_id = context.task_result.id
    with Heartbeat(job_id) as progress:
        batch = _claim(batch_pk, job_id)
        if batch.status != Status.RUNNING:
            return batch.status
        user = get_user_model().objects.filter(pk=user_pk).first()
        batch = pipeline.commit(batch, user, confirm_warnings=confirm_warnings, progress=progress)
    return batch.status


def enqueue_preview(content: bytes, file_name: str, user) -> ImportBatch:
    """Keep an upload as a queued batch and queue its preview (`preview_batch`)."""
    batch = pipeline.queued_preview(content, file_name, user)
    try:
        result = preview_batch.enqueue(batch.pk)
    except DatabaseError:
        logger.exception("Import #%s: its preview could not be queued", batch.pk)
        _finish(batch.pk, (Status.QUEUED, ""), Status.FAILED, NOT_QUEUED)
        return batch
    ImportBatch.objects.filter(pk=batch.pk, task_id="").update(task_id=result.id)
    return batch


@task(takes_context=True)
def preview_batch(context, batch_pk: int) -> str:
    """The job of a large upload: claim the batch and analyse its file; its final status."""
    job_id = context.task_result.id
    with Heartbeat(job_id, "previewing"):
        batch = _claim(batch_pk, job_id)
        if batch.status != Status.RUNNING:
            return batch.status
        batch = ImportBatch.objects.get(pk=batch_pk)  # with the file
        pipeline.reanalyse(batch, job=job_id)
    return ImportBatch.objects.values_list("status", flat=True).get(pk=batch_pk)


def _claim(pk: int, job_id: str) -> ImportBatch:
    """The queued batch, now RUNNING under `job_id`; as it is when it was not queued (the
    sweep failed it because its heartbeat stopped before a worker got to it)."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().defer("content").get(pk=pk)
        if batch.status == Status.QUEUED:
            batch.status, batch.task_id, batch.heartbeat_at = Status.RUNNING, job_id, timezone.now()
            batch.save(update_fields=["status", "task_id", "heartbeat_at"])
    return batch


def _finish(pk: int, held: tuple, status: str, message: str) -> bool:
    """Fail a batch still in the state `held` (status, job id), under its lock."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().defer("content").get(pk=pk)
        if (batch.status, batch.task_id) != held:
            return False
        batch.status = status
        batch.errors, batch.error_total = [Problem(message).as_dict()], 1
        batch.save(update_fields=["status", "errors", "error_total"])
    return True


# --- progress and heartbeat ------------------------------------------------------------------


def _cache():
    return caches["import_jobs"]


def _key(job_id: str) -> str:
    return f"import-job:{job_id}"


def progress_of(batch: ImportBatch) -> dict:
    """What the progress page shows: status, stage, rows done of total, and whether the job
    is over (then the page moves on to the result, or back to the preview)."""
    seen = (_cache().get(_key(batch.task_id)) if batch.task_id else None) or {}
    running = batch.status == Status.RUNNING
    stage = seen.get("stage", "validating") if running else "queued"
    done, total = (seen.get("done", 0), seen.get("total", 0)) if running else (0, 0)
    if batch.status not in IN_PROGRESS:
        done, total = batch.progress_done, batch.progress_total
    label = batch.get_status_display()
    if running and previewing(batch):
        label = PREVIEWING_LABEL
    return {
        "status": batch.status,
        "label": label,
        "stage": stage if batch.status in IN_PROGRESS else "",
        "stage_label": STAGES[stage] if batch.status in IN_PROGRESS else "",
        "done": min(done, total),
        "total": total,
        "finished": batch.status not in IN_PROGRESS,
        "previewing": previewing(batch),
    }


PREVIEWING_LABEL = "確認中"


def previewing(batch: ImportBatch) -> bool:
    """Whether the batch's job previews it (a batch queued for its commit has a kind)."""
    return batch.status in IN_PROGRESS and not batch.kind


class Heartbeat(pipeline.Progress):
    """The job's side of the progress channel: a thread beats every few seconds with the
    stage and the rows written so far, which a database wrapper counts as the job writes
    (the plan's tables only, not their history)."""

    def __init__(self, job_id: str, stage: str = "validating"):
        self.key = _key(job_id)
        self.stage_name, self.done, self.total = stage, 0, 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"heartbeat {job_id}", daemon=True)

    def __enter__(self):
        self.beat()
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        self.thread.join()
        self.beat()

    def _run(self):
        while not self.stopped.wait(settings.IMPORT_JOB_HEARTBEAT_SECONDS):
            self.beat()

    def beat(self) -> None:
        state = {"stage": self.stage_name, "done": self.done, "total": self.total}
        try:
            _cache().set(self.key, {**state, "beat": time.time()})
        except OSError:  # a full or unwritable directory must not fail the import
            logger.warning("Import job progress not written to the cache", exc_info=True)

    def stage(self, name: str) -> None:
        self.stage_name = name
        self.beat()

    @contextmanager
    def writing(self, total: int):
        self.stage_name, self.total, self.done = "writing", total, 0
        self.beat()
        tables = {model._meta.db_table for model in MODEL_ORDER}
        with connection.execute_wrapper(self._count(tables)):
            yield

    def _count(self, tables: set[str]):
        def wrapper(execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            self.done += _rows_written(sql, params, many, context["cursor"], tables)
            return result

        return wrapper


WRITE = re.compile(r'\s*(INSERT\s+INTO|UPDATE)\s+"?(\w+)"?\s*(\(([^)]*)\))?', re.IGNORECASE)


def _rows_written(sql: str, params, many: bool, cursor, tables: set[str]) -> int:
    """Rows an INSERT or UPDATE of one of `tables` wrote (for the progress bar only). An
    INSERT … RETURNING has no row count before its rows are fetched, so inserts are counted
    from their parameters: one set per row, or one array per column (PostgreSQL's UNNEST)."""
    match = WRITE.match(sql)
    if not match or match.group(2) not in tables:
        return 0
    if match.group(1).upper() == "UPDATE":
        return max(cursor.rowcount, 0)
    if many:
        return len(params)
    if not params:
        return 1
    if isinstance(params[0], list | tuple):
        return len(params[0])
    columns = (match.group(4) or "").count(",") + 1
    return len(params) // columns


# --- the sweep -------------------------------------------------------------------------------


def sweep(now: datetime | None = None) -> list[int]:
    """Mark the batches of dead jobs FAILED and expire old previews; the failed batches' ids.

    A queued or running batch is dead when its heartbeat (the job's beats, or the moment it
    was queued or claimed) is older than IMPORT_JOB_STALE_SECONDS, except a queued one whose
    task still waits in the queue for a worker. Its transaction died with its process, so
    nothing was written; each batch is failed under its lock, only if still in that state.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.IMPORT_JOB_STALE_SECONDS)
    failed = []
    batches = ImportBatch.objects.filter(status__in=IN_PROGRESS).only(
        "status", "task_id", "heartbeat_at", "kind"
    )
    for batch in batches:
        if _last_beat(batch) > stale_before or _waiting(batch):
            continue
        message = PREVIEW_STOPPED if previewing(batch) else STOPPED
        if _finish(batch.pk, (batch.status, batch.task_id), Status.FAILED, message):
            logger.warning("Import #%s: its job stopped; marked failed", batch.pk)
            failed.append(batch.pk)
    expire_previews(now)
    return failed


def _last_beat(batch: ImportBatch) -> datetime:
    beats = [batch.heartbeat_at or datetime.min.replace(tzinfo=UTC)]
    seen = _cache().get(_key(batch.task_id)) if batch.task_id else None
    if seen:
        beats.append(datetime.fromtimestamp(seen["beat"], tz=UTC))
    return max(beats)


def _waiting(batch: ImportBatch) -> bool:
    """Queued, and its task still waits for a worker (a busy worker is not a dead one)."""
    if batch.status != Status.QUEUED or not batch.task_id:
        return False
    try:
        result = default_task_backend.get_result(batch.task_id)
    except (TaskResultDoesNotExist, NotImplementedError):
        return False
    return result.status == TaskResultStatus.READY
