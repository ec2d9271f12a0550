"""`make bench`: the national-scale benchmark (issue 7).

Generates the data set's workbooks, runs the measurements on the bench's own SQLite file
(and on PostgreSQL when DATABASE_URL names a PostgreSQL server: in a throwaway database
beside it), prints the table and writes it into docs/PERFORMANCE.md; then back-tests the
year-end outlook (`bench.outlook`, docs/OUTLOOK.md).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import report
from bench.dataset import NationalDataSet, write_workbooks

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--import-repetitions", type=int, default=5)
    parser.add_argument("--page-repetitions", type=int, default=10)
    parser.add_argument(
        "--profiles",
        action="store_true",
        help="also write cProfile reports and the pages' SQL to bench/.data/profiles-<db>/",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print the table only; leave docs/ alone"
    )
    # For iterating on one import: a partial run prints its table and never writes docs/.
    parser.add_argument("--only", choices=("kpi", "monthly"), help="measure one workbook only")
    parser.add_argument(
        "--skip-baseline", action="store_true", help="leave out django-import-export"
    )
    parser.add_argument("--skip-pages", action="store_true", help="leave out the pages")
    args = parser.parse_args()
    partial = bool(args.only or args.skip_baseline or args.skip_pages)
    started = time.perf_counter()

    print(f"Generating the data set's workbooks in {DATA.relative_to(ROOT)}/workbooks …")
    data = NationalDataSet()
    workbooks = DATA / "workbooks"
    write_workbooks(data, workbooks)

    databases = [("sqlite", f"sqlite:///{DATA / 'bench.sqlite3'}")]
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://", "pgsql://")):
        databases.append(("postgresql", configured))

    results = []
    for name, url in databases:
        print(f"Measuring on {name} …")
        output = DATA / f"results-{name}.json"
        command = [
            sys.executable,
            "-m",
            "bench.measure",
            "--workbooks",
            str(workbooks),
            "--output",
            str(output),
            "--import-repetitions",
            str(args.import_repetitions),
            "--page-repetitions",
            str(args.page_repetitions),
        ]
        if args.profiles:
            command += ["--profiles", str(DATA / f"profiles-{name}")]
        if args.only:
            command += ["--only", args.only]
        command += ["--skip-baseline"] * args.skip_baseline + ["--skip-pages"] * args.skip_pages
        subprocess.run(command, cwd=ROOT, env=_environment(url), check=True)
        results.append(json.loads(output.read_text()))

    print()
    print(report.summary(results))
    print()
    print(report.markdown(results))
    print()
    print(report.phases(results))
    if by_phase := report.import_phases(results):
        print()
        print(by_phase)
    if not (args.no_write or partial):
        report.write_performance_md(ROOT / "docs" / "PERFORMANCE.md", results)
        print("\nWritten to docs/PERFORMANCE.md")
    print("\nBack-testing the year-end outlook (docs/OUTLOOK.md) …")
    outlook = [sys.executable, "-m", "bench.outlook"] + ["--no-write"] * (args.no_write or partial)
    subprocess.run(outlook, cwd=ROOT, env=_environment(""), check=True)
    print(f"Total: {time.perf_counter() - started:.0f} s")


def _environment(database_url: str) -> dict:
    """Production-like settings (DEBUG off) on the bench's own database."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-not-a-secret",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
    }


if __name__ == "__main__":
    main()
