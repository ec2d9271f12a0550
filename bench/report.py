"""The results table, printed and written into docs/PERFORMANCE.md between two markers."""

import datetime
from pathlib import Path

BEGIN = "<!-- bench:begin (written by `make bench`; edit outside these markers) -->"
END = "<!-- bench:end -->"

# Goals for SQLite on the 2-core machine: issue 7 (issue 15 set the monthly import's ratio
# to the lower bound at 4×, and the update path's to the fresh import at 1.5×).
IMPORT_TO_LOWER_BOUND = 4.0
UPDATE_TO_FRESH = 1.5
IMPORT_EXPORT_TO_IMPORT = 10.0
PEAK_BYTES = 200 * 1024 * 1024
PAGE_SECONDS = 0.100
ROLLOVER_SECONDS = 10.0

WORKBOOKS = (
    ("monthly", "Monthly workbook (月次)"),
    ("kpi", "KPI workbook (KPIの表)"),
)
PAGES = (
    ("home", "Home (ホーム)"),
    ("branch_year", "Branch achievement page (埼玉, 1 year)"),
    ("kpi_table_first", "KPI table, unfiltered, first page"),
    ("kpi_table_last", "KPI table, unfiltered, last page"),
    ("kpi_filtered_first", "KPI table, year + keyword, first page"),
    ("kpi_filtered_last", "KPI table, year + keyword, last page"),
    ("indicator_compare", "Indicator comparison (47 branches, 1 year)"),
    ("entry_grid", "Monthly entry grid (埼玉, 1 year)"),
    ("branch_year_council", "Branch page, published year, council (the snapshot)"),
    ("branch_year_published", "Branch page, published year, admin (working version)"),
    ("plan_year_council", "Plan page, published year, council (the snapshot)"),
    ("plan_year_admin", "Plan page, published year, admin (working version)"),
    ("entry_progress", "Entry progress (47 branches × 12 months, 1 year)"),
    ("national_map", "National achievement map (47 × 60, 1 year)"),
)


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _verdict(ok: bool) -> str:
    return " ✓" if ok else " ✗"


def rows(results: list[dict]) -> list[tuple[str, list[str], str]]:
    """(measurement, one cell per database, goal) for every line of the table."""
    table = []
    for kind, title in WORKBOOKS:
        first = results[0]
        if kind not in first["imports"]:
            continue  # a partial run (--only)
        scale = f"{first['kpi_rows']:,} KPI rows" + (
            f", {first['imports'][kind]['values']:,} values" if kind == "monthly" else ""
        )
        table.append((f"**{title}** — {scale}", ["" for _ in results], ""))

        def cells(fn, kind=kind):
            # "—" for what a partial run left out (--skip-baseline)
            return [_or_dash(fn, r["imports"][kind]) for r in results]

        table += [
            (
                "openpyxl read-only, reading only (lower bound)",
                cells(lambda i: _seconds(i["openpyxl"]["median"])),
                "",
            ),
            (
                "python-calamine, reading only",
                cells(lambda i: _seconds(i["calamine"]["median"])),
                "",
            ),
            (
                "product import (the import job: commit of a previewed batch)",
                cells(lambda i: _seconds(i["product"]["median"])),
                "",
            ),
            (
                "product import, update: the same rows, every value changed",
                cells(lambda i: _seconds(i["product_update"]["median"])),
                "",
            ),
            (
                "update ÷ fresh product import",
                cells(
                    lambda i: (
                        f"{_ratio(i['product_update'], i['product']):.1f}×"
                        + _verdict(_ratio(i["product_update"], i["product"]) <= UPDATE_TO_FRESH)
                    )
                ),
                f"≤ {UPDATE_TO_FRESH}× (monthly)" if kind == "monthly" else "",
            ),
            (
                "django-import-export, bulk mode",
                cells(lambda i: _seconds(i["import_export"]["median"])),
                "",
            ),
            (
                "product import ÷ lower bound",
                cells(
                    lambda i: (
                        f"{_ratio(i['product'], i['openpyxl']):.1f}×"
                        + _verdict(_ratio(i["product"], i["openpyxl"]) <= IMPORT_TO_LOWER_BOUND)
                    )
                ),
                f"≤ {IMPORT_TO_LOWER_BOUND:.0f}× (monthly)" if kind == "monthly" else "",
            ),
            (
                "django-import-export ÷ product import",
                cells(
                    lambda i: (
                        f"{_ratio(i['import_export'], i['product']):.1f}×"
                        + _verdict(
                            _ratio(i["import_export"], i["product"]) >= IMPORT_EXPORT_TO_IMPORT
                        )
                    )
                ),
                f"≥ {IMPORT_EXPORT_TO_IMPORT:.0f}× (monthly)" if kind == "monthly" else "",
            ),
            (
                "product import, peak memory (tracemalloc)",
                cells(
                    lambda i: (
                        f"{i['product_peak_bytes'] / 2**20:.0f} MB"
                        + _verdict(i["product_peak_bytes"] < PEAK_BYTES)
                    )
                ),
                "< 200 MB",
            ),
            (
                "product import, update, peak memory (tracemalloc)",
                cells(
                    lambda i: (
                        f"{i['update_peak_bytes'] / 2**20:.0f} MB"
                        + _verdict(i["update_peak_bytes"] < PEAK_BYTES)
                    )
                ),
                "< 200 MB",
            ),
            (
                "warnings confirmed (fresh · update)",
                cells(lambda i: f"{i['warnings']:,} · {i['update_warnings']:,}"),
                "",
            ),
        ]
    if results[0].get("rollover"):
        first = results[0]["rollover"]
        table.append(
            (
                f"**Yearly rollover** (open_fiscal_year) — {first['branches']} branches, "
                f"{first['kpis']:,} KPIs",
                [
                    _or_dash(
                        lambda r: (
                            _seconds(r["rollover"]["median"])
                            + _verdict(r["rollover"]["median"] < ROLLOVER_SECONDS)
                        ),
                        r,
                    )
                    for r in results
                ],
                f"< {ROLLOVER_SECONDS:.0f} s (SQLite)",
            )
        )
    if not results[0]["pages"]:
        return table  # a partial run (--skip-pages)
    table.append(
        (
            "**Pages** at full scale — median · SQL queries (with 1 year loaded)",
            ["" for _ in results],
            "",
        )
    )
    for key, title in PAGES:
        table.append(
            (
                title,
                [_or_dash(lambda r, key=key: _page_cell(r["pages"][key]), r) for r in results],
                "≤ 100 ms, queries constant",
            )
        )
    return table


def _or_dash(fn, measured: dict) -> str:
    try:
        return fn(measured)
    except KeyError:
        return "—"


def _ratio(numerator: dict, denominator: dict) -> float:
    return numerator["median"] / denominator["median"]


def _page_cell(page: dict) -> str:
    constant = page["queries"] == page["queries_one_year"]
    fast = page["median"] <= PAGE_SECONDS
    return (
        f"{_seconds(page['median'])}{_verdict(fast)} · {page['queries']} q "
        f"({page['queries_one_year']}){_verdict(constant)}"
    )


def markdown(results: list[dict]) -> str:
    header = ["measurement", *(r["database"] for r in results), "goal"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for measurement, cells, goal in rows(results):
        lines.append("| " + " | ".join([measurement, *cells, goal]) + " |")
    return "\n".join(lines)


def phases(results: list[dict]) -> str:
    return "\n".join(
        f"- {r['database']}: "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in r["phases"].items())
        + f"; total {r['run_seconds']:.0f} s"
        for r in results
    )


def import_phases(results: list[dict]) -> str:
    """The product's imports phase by phase (medians over the rounds), per database."""
    columns = [
        (kind, version, f"{name}, {version}")
        for kind, name in (("monthly", "monthly"), ("kpi", "KPI"))
        for version in ("fresh", "update")
        if kind in results[0]["imports"]
    ]
    lines = []
    for r in results:
        measured = {
            (kind, version): r["imports"][kind]["phases"][version] for kind, version, _ in columns
        }
        labels = _phase_order(label for p in measured.values() for label in p)
        lines += [
            f"The product's imports phase by phase on {r['database']} (medians over the "
            "rounds; an indented phase is part of the one above it):",
            "",
            "| phase | " + " | ".join(title for _, _, title in columns) + " |",
            "|---|" + "---|" * len(columns),
        ]
        for label in labels:
            row = [
                _seconds(measured[(k, v)][label]) if measured[(k, v)].get(label) else ""
                for k, v, _ in columns
            ]
            lines.append(f"| {label} | " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines)


def _phase_order(labels) -> list[str]:
    """The phases in bench.measure.PHASES order, then the rest, the total last."""
    from bench.measure import PHASES

    known = [label for label, _, _ in PHASES]
    seen = set(labels)
    order = [label for label in known if label in seen]
    rest = sorted(seen - set(known) - {"total"})
    return order + rest + (["total"] if "total" in seen else [])


def summary(results: list[dict]) -> str:
    first = results[0]
    years = first["years"]
    runs = ", ".join(f"{r['database']} {r['run_seconds']:.0f} s" for r in results)
    return (
        f"Measured {datetime.date.today().isoformat()} at commit {first.get('commit', '?')} "
        f"on {first['cpu_count']} CPUs "
        f"({first['platform']}), Python {first['python']}, Django {first['django']}. "
        f"Data set: {first['branches']} branches × FY{years[0]}–FY{years[1]} × "
        f"{first['indicators']} indicators. Imports: median of "
        f"{next(iter(first['imports'].values()))['product']['repetitions']} runs"
        + (
            f"; pages: median of {next(iter(first['pages'].values()))['repetitions']} "
            "requests after one warm-up, as a logged-in admin"
            " (a council member where the row says so)"
            if first["pages"]
            else ""
        )
        + f". Run time: {runs}."
    )


def write_performance_md(path: Path, results: list[dict]) -> None:
    by_phase = import_phases(results)
    generated = (
        f"{BEGIN}\n{summary(results)}\n\n{markdown(results)}\n\n"
        + (f"{by_phase}\n" if by_phase else "")
        + f"Where the run's time went:\n\n{phases(results)}\n{END}"
    )
    if path.exists() and BEGIN in (text := path.read_text()) and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        path.write_text(before + generated + after)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# Performance at national scale\n\n{generated}\n")
