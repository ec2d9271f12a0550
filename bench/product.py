"""The product's import, timed as the background job runs it.

An admin uploads a workbook (the preview: read, validate, diff, keep the file in an
ImportBatch) and confirms it; the confirmation runs `imports.pipeline.commit` on the kept
batch — read and validate the file again, prepare the plan under the lock, write it and
record the batch. That commit is the job the worker runs, and the one the bench times:
`preview` runs first, untimed.

The data set has values the value check warns about (kpis.checks: a negative 業務経費の対前年度
増減額 in a point-in-time series, an outlying month), as real workbooks do; an admin confirms
them in the preview, so the bench commits with `confirm_warnings=True`. Without it the
commit writes nothing and the batch stays to be confirmed.
"""

from pathlib import Path

from imports import pipeline, plan
from imports.models import ImportBatch
from kpis import notation


def preview(path: Path, user) -> ImportBatch:
    batch = pipeline.preview(path.read_bytes(), path.name, user)
    if batch.status != ImportBatch.Status.PREVIEWED or batch.errors:
        problems = "; ".join(p["text"] for p in batch.errors[:5])
        raise RuntimeError(f"the product's preview refused {path.name}: {problems}")
    return batch


def commit(batch: ImportBatch, user) -> ImportBatch:
    """The import job itself: what the worker runs for a confirmed preview."""
    _as_in_a_worker()
    batch = pipeline.commit(batch, user, confirm_warnings=True)
    if batch.status != ImportBatch.Status.COMMITTED:
        problems = "; ".join(p["text"] for p in batch.errors[:5])
        raise RuntimeError(
            f"the product's import of {batch.file_name} ended {batch.status}: {problems}"
        )
    return batch


def import_workbook(path: Path, user) -> ImportBatch:
    """Preview and commit, both: for the untimed imports that set a year up."""
    return commit(preview(path, user), user)


def _as_in_a_worker() -> None:
    """The worker has not read this file's texts: the preview ran in the web process. The
    per-process caches of read texts start empty, as they would there, instead of holding
    what the preview (or the round before) read in this process."""
    for cache in (notation.read_value, plan._decimal_text):
        cache.cache_clear()
