"""`python -m bench.outlook`: the year-end outlook (着地見込み) back-tested (issue 18).

For every KPI with monthly values whose real year-end figure (its 実績) the evaluation can
judge against its target: the outlook projected from April–September only (`kpis.outlook`,
as the write path projects it, with the previous year's twelve months as its profile where
they exist), and the naive rule "the latest value is the year-end value" (the latest value
of the series the year-end figure comes from; for a sum of single months, their total so
far), both evaluated against the target by the actual's rule. Counted: how often each one's
mark equals the mark of the real year-end figure.

Two data sets: the generated national one (`bench.dataset`: 47 branches × 60 indicators ×
10 years, seasonal months; its first year has no previous year's months) and the demo's
Gunma KPIs (seed 003, `imports/demo`: 令和5年度 with 令和4年度's months), loaded by
`load_demo` into a scratch SQLite file. Writes the table into docs/OUTLOOK.md between its
markers; `make bench` runs it.
"""

import argparse
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "OUTLOOK.md"
SCRATCH = ROOT / "bench" / ".data" / "outlook.sqlite3"
BEGIN = "<!-- outlook:begin (written by `python -m bench.outlook`; edit outside these markers) -->"
END = "<!-- outlook:end -->"
FIRST_HALF = (4, 5, 6, 7, 8, 9)


@dataclass(frozen=True)
class Case:
    """One KPI as the back-test sees it: texts as written, months as read."""

    aggregation: str
    unit: str
    direction: str
    target: str
    actual: str
    previous_actual: str
    stored_previous_actual: str | None  # last year's KPI's actual, when there is one
    months: dict  # {series: {month: Decimal}}, the whole year
    previous_months: dict | None  # the same for last year


@dataclass
class Tally:
    """How often each rule's mark equals the final mark, by the indicator's aggregation."""

    cases: Counter = field(default_factory=Counter)
    outlook: Counter = field(default_factory=Counter)
    naive: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)

    def share(self, name: str, aggregation: str | None = None) -> Decimal | None:
        hits, total = getattr(self, name), self.cases
        if aggregation is None:
            hit, count = sum(hits.values()), sum(total.values())
        else:
            hit, count = hits[aggregation], total[aggregation]
        return Decimal(hit) / count if count else None


def backtest(cases) -> Tally:
    from kpis import outlook
    from kpis.evaluation import evaluate
    from kpis.notation import parse_target, parse_value
    from kpis.vocabulary import Direction

    tally = Tally()
    for case in cases:
        direction = Direction(case.direction)
        known = {
            "previous_actual": parse_value(case.previous_actual),
            "stored_previous_actual": parse_value(case.stored_previous_actual)
            if case.stored_previous_actual
            else None,
        }
        target = parse_target(case.target)
        final = evaluate(target, parse_value(case.actual), direction, **known)
        if final.achieved is None:
            tally.skipped["実績を評価できない"] += 1
            continue
        half = {
            series: {m: v for m, v in values.items() if m in FIRST_HALF}
            for series, values in case.months.items()
        }
        projected = outlook.outlook(
            case.aggregation, case.unit, half, case.previous_months, target, direction, **known
        )
        if not projected.exists:
            tally.skipped[projected.reason] += 1
            continue
        latest = naive(case.aggregation, case.unit, half)
        naive_mark = outlook.judge(latest, case.unit, half, target, direction, **known).mark
        kind = _kind(case, half)
        tally.cases[kind] += 1
        tally.outlook[kind] += projected.mark == final.suggested_mark
        tally.naive[kind] += naive_mark == final.suggested_mark
    return tally


def _kind(case: Case, half: dict) -> str:
    """The aggregation, a 累計 told apart as the outlook tells it: building up or a ratio."""
    from kpis import outlook

    if case.aggregation != "cumulative":
        return case.aggregation
    if "cumulative" not in half:
        return "cumulative, single months"
    before = (case.previous_months or {}).get("cumulative", {})
    series = before if len(before) >= outlook.MIN_MONTHS else half["cumulative"]
    positions = {outlook.position(m): v for m, v in series.items()}
    return "cumulative, ratio" if outlook.builds_up(positions) is False else "cumulative"


def naive(aggregation: str, unit: str, months: dict) -> Decimal:
    """The latest value of the series the year-end figure comes from (for a sum of single
    months, the total so far: the latest value of the running total they make)."""
    from kpis import outlook

    series, method = outlook.year_end_series(aggregation, unit, months)
    values = months[series]
    if method == outlook.ADDITIVE:
        return sum(values.values(), Decimal(0))
    return values[max(values, key=outlook.position)]


# --- the data sets ---------------------------------------------------------------------------


def national_cases():
    from bench.dataset import NationalDataSet
    from kpis.eras import FISCAL_MONTHS

    data = NationalDataSet()
    previous = {}
    for year in data.years:
        current = {}
        for row in data.rows(year):
            key = (row.branch_code, row.indicator.name)
            current[key] = row
            if row.indicator.style == "qualitative":
                continue
            prior = previous.get(key)
            series = "cumulative" if row.series == "累計" else "single"
            yield Case(
                aggregation=row.indicator.aggregation,
                unit=row.indicator.unit,
                direction=row.indicator.direction,
                target=row.target_text,
                actual=row.actual_text,
                previous_actual=row.previous_actual_text,
                stored_previous_actual=prior.actual_text if prior else None,
                months={series: _read(zip(FISCAL_MONTHS, row.months, strict=True))},
                previous_months=(
                    {series: _read(zip(FISCAL_MONTHS, prior.months, strict=True))}
                    if prior
                    else None
                ),
            )
        previous = current


def _read(cells) -> dict:
    from kpis.notation import parse_value

    found = {}
    for month, cell in cells:
        reading = parse_value(cell)
        if reading.is_number:
            found[month] = reading.value
    return found


def gunma_cases():
    """The demo's Gunma (10) KPIs with months, from a scratch database loaded by load_demo."""
    from django.core.management import call_command

    from bench import database
    from kpis.models import Kpi, MonthlyValue

    database.create_fresh()
    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    kpis = Kpi.objects.filter(branch__code="10").select_related("indicator", "fiscal_year")
    by_key = {(k.indicator_id, k.fiscal_year.start_year): k for k in kpis}
    months = {}
    for value in MonthlyValue.objects.filter(kpi__in=kpis, value__isnull=False):
        months.setdefault(value.kpi_id, {}).setdefault(value.series, {})[value.month] = _read(
            [(value.month, value.text)]
        )[value.month]
    for (indicator_id, year), kpi in sorted(by_key.items(), key=lambda item: item[0]):
        if kpi.pk not in months:
            continue
        prior = by_key.get((indicator_id, year - 1))
        yield Case(
            aggregation=kpi.indicator.aggregation,
            unit=kpi.indicator.unit,
            direction=kpi.indicator.direction,
            target=kpi.target_text,
            actual=kpi.actual_text,
            previous_actual=kpi.previous_actual_text,
            stored_previous_actual=prior.actual_text if prior else None,
            months=months[kpi.pk],
            previous_months=months.get(prior.pk) if prior else None,
        )


# --- the report ------------------------------------------------------------------------------

LABELS = {
    "sum": "単月の合計",
    "cumulative": "累計（積み上がる）",
    "cumulative, ratio": "累計（その時点までの比率）",
    "cumulative, single months": "累計（単月の値で入力）",
    "point": "時点",
}


def _percent(share: Decimal | None) -> str:
    return "—" if share is None else f"{share * 100:.1f} %"


def table(results: list[tuple[str, Tally]]) -> str:
    lines = [
        "| data set | KPIs compared | outlook = final mark | naive = final mark |",
        "|---|---:|---:|---:|",
    ]
    for name, tally in results:
        lines.append(
            f"| **{name}** | {sum(tally.cases.values()):,} | "
            f"**{_percent(tally.share('outlook'))}** | {_percent(tally.share('naive'))} |"
        )
        for aggregation, label in LABELS.items():
            if tally.cases[aggregation]:
                lines.append(
                    f"| ↳ {label} | {tally.cases[aggregation]:,} | "
                    f"{_percent(tally.share('outlook', aggregation))} | "
                    f"{_percent(tally.share('naive', aggregation))} |"
                )
    lines.append("")
    for name, tally in results:
        skipped = "; ".join(f"{reason} {count:,}" for reason, count in tally.skipped.most_common())
        lines.append(f"- {name}, left out: {skipped or 'none'}")
    return "\n".join(lines)


def write(document: Path, text: str) -> None:
    current = document.read_text()
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    document.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.outlook", description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    args = parser.parse_args(argv)
    SCRATCH.parent.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
    import django

    django.setup()
    results = [
        ("generated national data set", backtest(national_cases())),
        ("Gunma (demo, seed 003)", backtest(gunma_cases())),
    ]
    text = table(results)
    print(text)
    if not args.no_write:
        write(DOCUMENT, text)
        print(f"\nWritten to {DOCUMENT.relative_to(ROOT)}")
    beaten = [name for name, t in results if not t.share("outlook") > t.share("naive")]
    if beaten:
        sys.exit(f"The outlook does not beat the naive rule on: {', '.join(beaten)}")


if __name__ == "__main__":
    main()
