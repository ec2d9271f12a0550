"""The import worker: django-tasks-db's `db_worker` that also sweeps, when it starts and
after every job, the batches whose job died (imports.tasks.sweep) and expires old previews.

    python manage.py import_worker            # runs until stopped (SIGTERM/Ctrl-C: after the job)
    python manage.py import_worker --batch    # runs what is queued, then exits
"""

import logging
import os

from django.db import DatabaseError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from imports.tasks import sweep

logger = logging.getLogger("imports.tasks")


class ImportWorker(db_worker.Worker):
    def run(self) -> None:
        _sweep()
        super().run()

    def run_task(self, db_task_result) -> None:
        try:
            super().run_task(db_task_result)
        finally:
            _sweep()


def _sweep() -> None:
    try:
        sweep()
    except DatabaseError:  # a busy database: the next sweep will do it
        logger.warning("The import sweep could not run", exc_info=True)


class Command(db_worker.Command):
    help = "Run the import jobs (django-tasks database worker) and sweep dead ones"

    def handle(self, *, verbosity, queue_name, exclude_queues, reload, batch, **options):
        # As db_worker's handle, with the sweeping worker.
        self.configure_logging(verbosity)
        excluded = exclude_queues.split(",") if exclude_queues else []
        worker = ImportWorker(
            queue_names=queue_name.split(","),
            excluded_queue_names=excluded,
            batch=batch,
            **{
                name: options[name]
                for name in ("interval", "backend_name", "startup_delay", "max_tasks", "worker_id")
            },
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
