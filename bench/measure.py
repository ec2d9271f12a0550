"""One bench run against one database, in its own process (started by `python -m bench`).

1. a fresh database; the nine background years loaded in bulk (the pages' query counts are
   taken after the first year too, to compare with the full data set);
2. the measured year's KPI workbook, then its monthly workbook: the openpyxl read-only lower
   bound, python-calamine, django-import-export and the product's import, in rounds (each
   once per round, each import from the same empty year), medians over the rounds; the
   product's peak memory in one more run. The update path in the same rounds: the product
   imports the workbook into the empty year (untimed), then the same workbook with every
   value changed (timed), so that every row it names is stored and different. The product's
   imports are also timed phase by phase in every round (a timer around a few functions,
   see PHASES; negligible next to the phases);
3. the pages at full scale: a warm-up request, the median of several, the query count;
4. with --profiles: cProfile reports of the product's imports (fresh and update) and of
   each page, and each page's SQL with timings, for finding the slow parts.
"""

import argparse
import cProfile
import io
import json
import logging
import os
import platform
import pstats
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import django


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workbooks", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--profiles", type=Path)
    parser.add_argument("--import-repetitions", type=int, default=5)
    parser.add_argument("--page-repetitions", type=int, default=10)
    parser.add_argument("--only", choices=("kpi", "monthly"))
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-pages", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # WhiteNoise warns when collectstatic has not run; the pages serve from static/.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()
    logging.getLogger("imports").setLevel(logging.WARNING)  # one line per import otherwise
    results = run(args)
    args.output.write_text(json.dumps(results, ensure_ascii=False, indent=2))


def run(args) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from bench import database, load, pages, product
    from bench.dataset import NationalDataSet
    from kpis.models import BranchPlan, Indicator

    started = time.perf_counter()
    phases = {}
    data = NationalDataSet()
    year = data.years[-1]
    original_name = database.create_fresh()
    try:
        phases["create database"] = time.perf_counter() - started
        admin = get_user_model().objects.create_superuser("bench-admin", "", None)
        client = Client()
        client.force_login(admin)
        clients = {"admin": client, "council": pages.council_client()}
        _say(f"{database.describe()}: loading {len(data.years) - 1} background years")

        mark = time.perf_counter()
        load.load_year(data, data.years[0])
        slug = Indicator.objects.get(name=pages.INDICATOR).slug
        one_year = {}
        if not args.skip_pages:
            # Counted in the measured year's state (open: its plans are drafts, so no
            # publication is looked up), then published again as a closed year is.
            first_plans = BranchPlan.objects.filter(fiscal_year__start_year=data.years[0])
            first_plans.update(status=BranchPlan.Status.DRAFT)
            one_year = {
                page.key: pages.query_count(client, page.url)
                for page in pages.pages(client, data.years[0], slug)
            }
            first_plans.update(status=BranchPlan.Status.PUBLISHED)
            pages.publish_for_council(data.years[0], admin)
            for who, page in pages.published_pages(data.years[0]):
                one_year[page.key] = pages.query_count(clients[who], page.url)
        for background in data.years[1:-1]:
            load.load_year(data, background)
        load.open_year(year)
        database.analyse()
        phases["load background years"] = time.perf_counter() - mark

        imports = {}
        for workload in _workloads(data, year, args.workbooks):
            mark = time.perf_counter()
            if args.only and workload.kind != args.only:
                # The monthly workbook needs the year's KPIs: imported once, untimed.
                if workload.kind == "kpi":
                    product.import_workbook(workload.path, admin)
                continue
            imports[workload.kind] = measure_import(
                workload, args.import_repetitions, admin, baseline=not args.skip_baseline
            )
            phases[f"{workload.kind} workbook"] = time.perf_counter() - mark

        page_results = {}
        if not args.skip_pages:
            _say("pages")
            mark = time.perf_counter()
            database.analyse()
            for page in pages.pages(client, year, slug):
                page_results[page.key] = pages.measure(client, page, args.page_repetitions)
                page_results[page.key]["queries_one_year"] = one_year[page.key]
            # The year before, published: the council's snapshot path beside the admin's.
            pages.publish_for_council(year - 1, admin)
            for who, page in pages.published_pages(year - 1):
                page_results[page.key] = pages.measure(clients[who], page, args.page_repetitions)
                page_results[page.key]["queries_one_year"] = one_year[page.key]
            phases["pages"] = time.perf_counter() - mark

        rollover = {}
        if not args.only:
            _say("yearly rollover")
            mark = time.perf_counter()
            rollover = measure_rollover(year + 1, args.import_repetitions, admin)
            phases["rollover"] = time.perf_counter() - mark

        if args.profiles:
            _say(f"profiles in {args.profiles}")
            mark = time.perf_counter()
            workloads = _workloads(data, year, args.workbooks)
            profile_all(workloads, args.profiles, admin, client, slug, args)
            phases["profiles"] = time.perf_counter() - mark

        return {
            "database": database.describe(),
            "commit": _commit(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "django": django.get_version(),
            "platform": platform.platform(),
            "years": [data.years[0], year],
            "branches": len(data.branch_codes),
            "indicators": len(data.indicators),
            "kpi_rows": len(data.rows(year)),
            "imports": imports,
            "pages": page_results,
            "rollover": rollover,
            "phases": phases,
            "run_seconds": time.perf_counter() - started,
        }
    finally:
        database.drop(original_name)


def measure_rollover(year: int, repetitions: int, user) -> dict:
    """Opening `year` for every branch from the year before (imports.rollover), undone
    between repetitions (untimed)."""
    from imports import applying, rollover
    from kpis.models import Kpi

    timings = []
    for _ in range(repetitions):
        mark = time.perf_counter()
        batch, analysis = rollover.open_fiscal_year(year, user, confirm_warnings=True)
        timings.append(time.perf_counter() - mark)
        if batch is None:
            raise SystemExit(f"The rollover was refused: {analysis.problems[:3]}")
        created = Kpi.objects.filter(fiscal_year__start_year=year).count()
        applying.undo(batch, user)
    return {
        "median": statistics.median(timings),
        "runs": timings,
        "branches": len(rollover.carried_branches(year)),
        "kpis": created,
    }


@dataclass
class Workload:
    """One workbook of the measured year: its file, how to empty the year of what it
    writes, and how many rows an import must leave."""

    kind: str
    year: int
    path: Path
    changed_path: Path  # the same rows, every value changed: the update path
    clear: Callable[[int], None]
    model: type
    year_lookup: str
    expected: int
    baseline_import: Callable[[Path], object]

    def reset(self, marks) -> None:
        from bench import database

        self.clear(self.year)
        database.remove_history_after(marks)

    def check(self, label: str) -> None:
        written = self.model.objects.filter(**{self.year_lookup: self.year}).count()
        if written != self.expected:
            raise RuntimeError(f"{label} wrote {written} rows, expected {self.expected}")

    def check_update(self, batch) -> None:
        """The update import changed every row it names and created none."""
        counts = {c["model"]: c for c in batch.counts}
        row = counts[self.model._meta.model_name]
        if (row["update"], row["create"], row["unchanged"]) != (self.expected, 0, 0):
            raise RuntimeError(
                f"the update import of {self.changed_path.name}: {row}, "
                f"expected {self.expected} updates"
            )
        self.check("the product's update import")


def _workloads(data, year: int, workbooks: Path) -> list[Workload]:
    from bench import baseline, database
    from bench.dataset import kpi_workbook_path, monthly_workbook_path
    from kpis.models import Kpi, MonthlyValue

    rows = data.rows(year)
    kpi = Workload(
        "kpi",
        year,
        kpi_workbook_path(workbooks, year),
        kpi_workbook_path(workbooks, year, changed=True),
        database.clear_kpis,
        Kpi,
        "fiscal_year__start_year",
        len(rows),
        baseline.import_kpi_workbook,
    )
    monthly = Workload(
        "monthly",
        year,
        monthly_workbook_path(workbooks, year),
        monthly_workbook_path(workbooks, year, changed=True),
        database.clear_monthly_values,
        MonthlyValue,
        "kpi__fiscal_year__start_year",
        sum(cell is not None for row in rows for cell in row.months),
        baseline.import_monthly_workbook,
    )
    return [kpi, monthly]


def measure_import(workload: Workload, repetitions: int, user, *, baseline: bool = True) -> dict:
    from bench import database, product, readers
    from bench.timing import Contender, peak_memory, round_robin

    _say(f"{workload.kind} workbook: {repetitions} rounds")
    marks = database.history_marks()
    fresh, updates = [], []
    fresh_phases, update_phases = [], []
    previewed = []

    def reset():
        workload.reset(marks)

    def preview_fresh():
        reset()
        previewed.append(product.preview(workload.path, user))

    def preview_update():
        reset()
        product.import_workbook(workload.path, user)
        previewed.append(product.preview(workload.changed_path, user))

    def commit(done, spent):
        batch, phases = timed_phases(lambda: product.commit(previewed.pop(), user))
        spent.append(phases)
        done.append(batch)

    contenders = {
        "openpyxl": Contender(lambda: readers.read_with_openpyxl(workload.path)),
        "calamine": Contender(lambda: readers.read_with_calamine(workload.path)),
    }
    if baseline:
        contenders["import_export"] = Contender(
            lambda: workload.baseline_import(workload.path),
            before=reset,
            after=lambda: workload.check("django-import-export"),
        )
    contenders["product"] = Contender(
        lambda: commit(fresh, fresh_phases),
        before=preview_fresh,
        after=lambda: workload.check("the product's import"),
    )
    contenders["product_update"] = Contender(
        lambda: commit(updates, update_phases),
        before=preview_update,
        after=lambda: workload.check_update(updates[-1]),
    )
    timings = round_robin(contenders, repetitions)
    preview_fresh()
    product_peak = peak_memory(lambda: product.commit(previewed.pop(), user))
    workload.check("the product's import")
    preview_update()
    update_peak = peak_memory(lambda: updates.append(product.commit(previewed.pop(), user)))
    workload.check_update(updates[-1])
    return {
        "values": workload.expected,
        **{name: timing.as_dict() for name, timing in timings.items()},
        "warnings": len(fresh[0].warnings),
        "update_warnings": len(updates[0].warnings),
        "phases": {"fresh": _medians(fresh_phases), "update": _medians(update_phases)},
        "product_peak_bytes": product_peak,
        "update_peak_bytes": update_peak,
        "openpyxl_peak_bytes": peak_memory(lambda: readers.read_with_openpyxl(workload.path)),
    }


def profile_all(workloads: list[Workload], directory: Path, user, client, slug, args) -> None:
    """cProfile reports (cumulative and own time) of the import jobs, fresh and update, and
    of the pages, and the pages' SQL, one file each."""
    from bench import database, pages, product

    directory.mkdir(parents=True, exist_ok=True)
    kpi, monthly = workloads
    for workload in (monthly, kpi):
        if args.only and workload.kind != args.only:
            continue
        name = f"import_{workload.kind}"
        workload.reset(database.history_marks())
        batch = product.preview(workload.path, user)
        _profile(directory / f"{name}.txt", lambda b=batch: product.commit(b, user))
        batch = product.preview(workload.changed_path, user)
        _profile(directory / f"{name}_update.txt", lambda b=batch: product.commit(b, user))
    if args.skip_pages:
        return
    monthly.reset(database.history_marks())
    product.import_workbook(monthly.path, user)
    for page in pages.pages(client, kpi.year, slug):
        _profile(directory / f"page_{page.key}.txt", lambda url=page.url: client.get(url))
        (directory / f"page_{page.key}.sql.txt").write_text(pages.sql_report(client, page.url))


# The phases of an import, as (label, module, function): each is timed around its calls.
# "↳" marks a phase inside the one above it; the value check runs inside both prepare and
# apply (a monthly import checks its cells twice), and its row sums both.
PHASES = (
    ("read and validate the workbook", "imports.pipeline", "read_and_validate"),
    ("prepare: match the stored rows, check, diff", "imports.pipeline", "prepare"),
    ("apply: write through kpis.writes", "imports.pipeline", "apply"),
    ("↳ KPIs, and their neighbours' re-evaluation (save_kpis)", "kpis.writes", "save_kpis"),
    ("↳ monthly values (write_monthly_values)", "kpis.writes", "write_monthly_values"),
    (
        "↳↳ INSERT new rows + history (bulk_create_with_history)",
        "kpis.writes",
        "bulk_create_with_history",
    ),
    ("↳↳ INSERT new values, their keys read back (kpis.bulk.insert)", "kpis.bulk", "insert"),
    (
        "↳↳ their history rows, copied in SQL (kpis.bulk.insert_history)",
        "kpis.bulk",
        "insert_history",
    ),
    ("↳↳ UPDATE changed rows by key (kpis.bulk.update)", "kpis.bulk", "update"),
    (
        "↳↳ KPI history rows (simple-history's bulk_history_create)",
        "simple_history.manager",
        "HistoryManager.bulk_history_create",
    ),
    ("value check of the cells, in prepare and apply (check_cells)", "kpis.writes", "check_cells"),
    (
        "save the batch with its undo images (ImportBatch.save)",
        "imports.models",
        "ImportBatch.save",
    ),
)
# The phases that do not nest in one another: the rest of the total is shown as "other".
TOP_PHASES = (PHASES[0][0], PHASES[1][0], PHASES[2][0], PHASES[-1][0])


def timed_phases(action) -> tuple[object, dict]:
    """What `action` returns, and the seconds per phase of that run (see PHASES)."""
    import importlib
    from unittest import mock

    spent = {}

    def timer(label, function):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - start

        return timed

    patches = []
    for label, module_name, path in PHASES:
        owner = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        patches.append(mock.patch.object(owner, name, timer(label, getattr(owner, name))))
    for patch in patches:
        patch.start()
    try:
        start = time.perf_counter()
        result = action()
        total = time.perf_counter() - start
    finally:
        for patch in patches:
            patch.stop()
    other = total - sum(spent.get(label, 0.0) for label in TOP_PHASES)
    ordered = {label: spent[label] for label, _, _ in PHASES if label in spent}
    return result, {**ordered, "other": other, "total": total}


def _medians(runs: list[dict]) -> dict:
    labels = dict.fromkeys(label for run in runs for label in run)
    return {label: statistics.median(run.get(label, 0.0) for run in runs) for label in labels}


def _profile(destination: Path, action) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(action)
    report = io.StringIO()
    stats = pstats.Stats(profiler, stream=report)
    stats.sort_stats("cumulative").print_stats(80)
    stats.sort_stats("tottime").print_stats(40)
    destination.write_text(report.getvalue())


def _commit() -> str:
    """The code measured: the commit, marked when the work tree differs from it."""
    import subprocess

    def git(*args) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no")
    return f"{head} + local changes" if changed else head


def _say(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
