"""Step 2 for monthly workbooks: match the validated cells against the stored values, and
the written year figures (on the KPI) and breakdown series (MonthlyBreakdown) against theirs."""

import functools
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

from django.db.models.base import ModelState

from imports import columns
from imports.plan import (
    Plan,
    before_images,
    is_bare_number,
    locked,
    say_what_stays,
    snapshot,
)
from imports.validation import Validated
from kpis import writes
from kpis.eras import FISCAL_MONTHS, era_label
from kpis.models import (
    Indicator,
    Kpi,
    MonthlyBreakdown,
    MonthlyValue,
)


def prepare_monthly(validated: Validated, user, lock: bool) -> Plan:
    plan = Plan("monthly")
    records = validated.monthly
    years = {r.year for r in records}
    branch_ids = {r.branch.pk for r in records}
    pairs = {(r.branch.pk, r.year) for r in records}
    named = [*records, *validated.breakdowns]  # the KPIs either row names
    by_id = {i.pk: i for i in Indicator.objects.all()}
    indicators = {columns.indicator_key(i.name): i for i in by_id.values()}
    # Plain values, not model instances: a national workbook names thousands of KPIs.
    kpis = {
        (branch_id, year, columns.indicator_key(by_id[indicator_id].name)): (
            kpi_id,
            by_id[indicator_id],
        )
        for kpi_id, branch_id, year, indicator_id in Kpi.objects.filter(
            branch_id__in={r.branch.pk for r in named},
            fiscal_year__start_year__in={r.year for r in named},
        )
        .order_by()
        .values_list("pk", "branch_id", "fiscal_year__start_year", "indicator_id")
    }
    stored = _stored_values(branch_ids, years, pairs, lock)
    cells, places = [], []
    with_unit = {}  # (unit, text) → the text, a bare number given the indicator's unit
    for record in records:
        found = kpis.get(record.kpi_key)
        if found is None:
            plan.problems.append(
                record.where.problem(_unknown_kpi(record, indicators), "indicator")
            )
            continue
        kpi_id, indicator = found
        unit = indicator.unit
        for month, text in record.values.items():
            if unit:
                written = with_unit.get((unit, text))
                if written is None:
                    reading = columns.read_value(text)
                    written = with_unit[(unit, text)] = (
                        replace(reading, unit=unit).display() if is_bare_number(reading) else text
                    )
                text = written
            cells.append(writes.Cell(kpi_id, indicator, month, record.series, text))
            places.append(record)
    changes = plan[MonthlyValue]
    seen = set()
    user_id = user.pk if user is not None and user.is_authenticated else None
    numbers = defaultdict(dict)  # the stored numbers of each series, which the check reads
    for value in stored.values():
        if value.value is not None:
            numbers[(value.kpi_id, value.series)][value.month] = value.value
    plan.checked = writes.check(cells, stored_numbers=numbers)
    readings = plan.checked.readings
    before = {name: [] for name in READ_FIELDS}  # of each value the file changes, in order
    for cell, record, findings in zip(cells, places, plan.checked.in_order, strict=True):
        if findings:  # most cells have none
            for finding in findings:
                problem = record.where.problem(
                    f"{cell.month}月: {finding.message}", f"m{cell.month}"
                )
                (plan.problems if finding.is_error else plan.warnings).append(problem)
            if any(f.is_error for f in findings):
                continue
        reading = readings[cell.text]
        value = stored.get((cell.kpi_id, cell.month, cell.series))
        if value is None:
            value = _new_monthly_value(
                kpi_id=cell.kpi_id,
                month=cell.month,
                series=cell.series,
                text=cell.text,
                updated_by_id=user_id,
            )
            value.read_text(reading)
            changes.create.append(value)
            continue
        seen.add(value.pk)
        # What a text can change of a stored value; the rest is its key and bookkeeping.
        written = (value.text, value.value, value.unit)
        value.text = cell.text
        value.read_text(reading)
        if (value.text, value.value, value.unit) == written:
            changes.unchanged += 1
            continue
        for name, old in zip(READ_FIELDS, written, strict=True):
            before[name].append(old)
        changes.update.append(value)
    changes.before.update(before_images(changes.update, before))
    changes.untouched = sum(1 for v in stored.values() if v.pk not in seen)
    _year_figures(plan, records, kpis, lock)
    _breakdowns(plan, validated.breakdowns, kpis, lock)
    say_what_stays(plan)
    return plan


def _year_figures(plan: Plan, records, kpis: dict, lock: bool) -> None:
    """A series' written year figure goes on its KPI, as written; where the indicator's
    months add up (aggregation 単月の合計), a figure that disagrees with them is a warning."""
    written = [r for r in records if r.year_figure and r.kpi_key in kpis]
    if not written:
        return
    found = Kpi.objects.filter(pk__in={kpis[r.kpi_key][0] for r in written})
    stored = {
        kpi.pk: kpi
        for kpi in locked(found.select_related("fiscal_year", "indicator", "measure"), lock)
    }
    befores = {}
    for record in written:
        kpi_id, indicator = kpis[record.kpi_key]
        kpi = stored[kpi_id]
        befores.setdefault(kpi_id, snapshot(kpi))
        prefix = "single" if record.series == MonthlyValue.Series.SINGLE else "cumulative"
        setattr(kpi, f"{prefix}_year_figure", record.year_figure)
        setattr(kpi, f"{prefix}_year_figure_label", record.year_figure_label)
        if disagreement := _disagreement(record, indicator):
            plan.warnings.append(record.where.problem(disagreement, "year_figure"))
    for kpi_id, before in befores.items():
        plan[Kpi].keep_or_update(stored[kpi_id], before)


AVERAGE_LABEL = "平均"


def _disagreement(record, indicator: Indicator) -> str:
    """What is wrong with a single-month series' written total (or 平均), or ""."""
    if (
        indicator.aggregation != Indicator.Aggregation.SUM
        or record.series != MonthlyValue.Series.SINGLE
    ):
        return ""
    figure = columns.read_value(record.year_figure)
    readings = [columns.read_value(text) for text in record.values.values()]
    if not figure.is_number or not readings or not all(r.is_number for r in readings):
        return ""
    total = sum((r.value for r in readings), Decimal(0))
    label = record.year_figure_label or "年計"
    if record.year_figure_label == AVERAGE_LABEL:
        expected = (total / len(readings)).quantize(Decimal(1).scaleb(_exponent(figure.value)))
        what = "月の値の平均"
    else:
        expected, what = total, "月の値の合計"
    if expected == figure.value:
        return ""
    blanks = "（空欄の月があります）" if len(readings) < len(FISCAL_MONTHS) else ""
    return (
        f"{label}「{record.year_figure}」が{what}（{_plain(expected)}）と一致しません{blanks}。"
        "記載のとおり取り込みます"
    )


def _exponent(number: Decimal) -> int:
    return min(number.as_tuple().exponent, 0)


def _plain(number: Decimal) -> str:
    return f"{number:,f}"


def _breakdowns(plan: Plan, records, kpis: dict, lock: bool) -> None:
    """Breakdown rows by (KPI, series, label): created, or their written cells updated (a
    blank month, year figure or note leaves the stored one). A breakdown whose KPI is not
    registered is skipped with a notice: it supports a KPI and is nothing without one."""
    missing = [r for r in records if r.kpi_key not in kpis]
    if missing:
        first = missing[0].where
        plan.notices.append(
            f"KPIが登録されていない内訳 {len(missing)}行（{first.sheet}シート {first.row}行目"
            f"「{missing[0].label}」など）は読み飛ばしました。先にその支部・年度のKPIの表を"
            "取り込んでください。"
        )
    records = [r for r in records if r.kpi_key in kpis]
    if not records:
        return
    found = MonthlyBreakdown.objects.filter(kpi_id__in={kpis[r.kpi_key][0] for r in records})
    stored = {(b.kpi_id, b.series, b.label): b for b in locked(found, lock)}
    changes = plan[MonthlyBreakdown]
    order = defaultdict(int)
    seen = set()
    for record in records:
        kpi_id = kpis[record.kpi_key][0]
        order[(kpi_id, record.series)] += 1
        breakdown = stored.get((kpi_id, record.series, record.label))
        if breakdown is None:
            breakdown = MonthlyBreakdown(kpi_id=kpi_id, label=record.label, series=record.series)
            before = None
        else:
            seen.add(breakdown.pk)
            before = snapshot(breakdown)
        breakdown.order = order[(kpi_id, record.series)]
        months = {**breakdown.months, **{str(m): text for m, text in record.months.items()}}
        breakdown.months = {str(m): months[str(m)] for m in FISCAL_MONTHS if str(m) in months}
        if record.year_figure:
            breakdown.year_figure = record.year_figure
            breakdown.year_figure_label = record.year_figure_label
        if record.note:
            breakdown.note = record.note
        if before is None:
            changes.create.append(breakdown)
        else:
            changes.keep_or_update(breakdown, before)
    changes.untouched = sum(1 for b in stored.values() if b.pk not in seen)


# The fields of a monthly value its text sets (MonthlyValue.read_text).
READ_FIELDS = ("text", "value", "unit")


def _stored_values(branch_ids, years, pairs, lock: bool) -> dict:
    """{(kpi id, month, series): value} of the stored values of the workbook's branches and
    years, built as `Model.from_db` builds rows from plain rows: a national workbook reads
    30,000 of them, and the queryset's instances cost four times the query. Without their
    time stamp, which only the writer sets: parsing it was a third of the query on SQLite."""
    names = [f.attname for f in MonthlyValue._meta.concrete_fields if f.attname != "updated_at"]
    rows = locked(
        MonthlyValue.objects.filter(
            kpi__branch_id__in=branch_ids, kpi__fiscal_year__start_year__in=years
        ).order_by(),
        lock,
    ).values_list(*names, "kpi__branch_id", "kpi__fiscal_year__start_year")
    stored = {}
    db = rows.db
    for row in rows:
        if row[-2:] not in pairs:
            continue
        value = _built(zip(names, row, strict=False), db)  # the row ends in branch, year
        stored[(value.kpi_id, value.month, value.series)] = value
    return stored


@functools.cache
def _monthly_value_defaults() -> dict:
    return {f.attname: f.get_default() for f in MonthlyValue._meta.concrete_fields}


def _new_monthly_value(**values) -> MonthlyValue:
    """MonthlyValue(**values), built as `_built` builds it. (The defaults are constants:
    None, 1; MonthlyValue has no init signal receivers.)"""
    return _built({**_monthly_value_defaults(), **values})


def _built(attributes, db: str | None = None) -> MonthlyValue:
    """A MonthlyValue as Django builds rows it reads (`Model.from_db`): the instance's
    attributes set directly, a fifth of the constructor's cost over the 30,000 values of a
    national workbook. `db`: the database a stored row was read from."""
    value = MonthlyValue.__new__(MonthlyValue)
    value.__dict__.update(attributes)
    value._state = ModelState()
    if db is not None:
        value._state.adding, value._state.db = False, db
    return value


def _unknown_kpi(record, indicators) -> str:
    if columns.indicator_key(record.indicator) not in indicators:
        return (
            f"KPI指標「{record.indicator}」が登録されていません。"
            "先にKPIの表（または指標の一覧）を取り込んでください"
        )
    return (
        f"{record.branch.name} {era_label(record.year)}のKPI「{record.indicator}」が"
        "登録されていません。先にその支部・年度のKPIの表を取り込んでください"
    )
