"""The one write path of KPI data: KPIs and their monthly values.

Every writer — the entry pages, imports and their undo, the Django admin, management
commands — changes KPIs and monthly values through these functions, so each rule lives
here once:
- the value check (kpis.checks): errors refuse the whole write; warnings are written only
  when the person confirmed them, and the confirmation is part of the history's reason;
- versions: every change raises the row's version, so a form or an undo that saw an older
  version finds out;
- history: one django-simple-history row per change, whose reason starts with the channel
  (画面入力 / 取り込み #N / 管理画面 / 取り消し #N; the commands write through imports);
- evaluation: a written KPI is evaluated from its texts and the stored previous-year actual,
  and so is every KPI that depends on it — the same branch and indicator in the next and
  the previous fiscal year — after a change, a creation or a deletion;
- manual marks: when 達成 or the suggested mark moves under a person's mark, the mark is
  flagged 要再確認 (stale), unless the same write set the mark;
- published plans: a change of 達成 or the mark of a KPI whose plan is published flags the
  KPI 公表後に変更あり until the plan is published again.

The branch's own report — measures' 実施状況 and 課題, activities' marks — is written by
`save_report` at the end, with a history row per change and the same channels.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from types import SimpleNamespace
from typing import NamedTuple

from django.db import IntegrityError, connections, router, transaction
from django.db.models import F, Max
from django.db.models.deletion import Collector
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from kpis import bulk, checks, outlook
from kpis.breakdowns import delete_breakdowns, write_breakdowns  # noqa: F401 (re-exported)
from kpis.evaluation import Direction
from kpis.fields import fits
from kpis.models import MARK_VALUES, Activity, BranchPlan, Indicator, Kpi, Measure, MonthlyValue
from kpis.notation import parse_target, read_value

BATCH_SIZE = 500
MONTHLY_TEXT_LENGTH = MonthlyValue._meta.get_field("text").max_length
# Fields that say who and when, not what: a write that changes only these changes nothing.
_BOOKKEEPING = {"id", "updated_at", "updated_by", "version"}
KPI_TEXTS = {
    "target_text": "目標",
    "actual_text": "実績",
    "previous_actual_text": "前年度実績",
    "national_average_text": "全国平均",
}


class Channel(StrEnum):
    """Where a change came from; the history's change reason starts with it."""

    ENTRY = "画面入力"
    IMPORT = "取り込み"
    UNDO = "取り消し"
    ADMIN = "管理画面"


@dataclass(frozen=True)
class Source:
    """Who writes, through which channel and why; `confirmed` says the person confirmed
    the warnings they were shown."""

    channel: Channel
    user: object = None
    detail: str = ""  # "#12" for an import batch, or a person's reason
    confirmed: bool = False
    note: str = ""  # added as it is: why a row the writer did not name was written

    def reason(self, warnings: Iterable[str] = ()) -> str:
        text = self.channel.value
        if self.detail:
            text += (" " if self.detail.startswith("#") else ": ") + self.detail
        text += self.note
        confirmed = list(dict.fromkeys(warnings))
        if confirmed:
            text += "（警告を確認: " + " ".join(confirmed) + "）"
        return text

    @property
    def history_user(self):
        user = self.user
        return user if user is not None and getattr(user, "is_authenticated", False) else None


@dataclass(frozen=True)
class Finding:
    """A check's finding located on a row: `key` is the caller's (a cell, a KPI)."""

    key: object
    finding: checks.Finding

    @property
    def message(self) -> str:
        return self.finding.message


class Refused(Exception):
    """Nothing was written: errors, or warnings the person has not confirmed."""

    def __init__(self, findings: list[Finding]):
        super().__init__("\n".join(f.message for f in findings))
        self.findings = findings


class VersionConflict(Exception):
    """A row's version moved on since the writer read it; nothing was written."""

    def __init__(self, keys: list):
        super().__init__(f"{len(keys)}件の値がほかの人によって先に変更されました")
        self.keys = keys


# --- the value check, as every channel applies it --------------------------------------


def series_kind(indicator: Indicator, series: str) -> checks.Series:
    if series == MonthlyValue.Series.CUMULATIVE:
        return checks.Series.CUMULATIVE
    if indicator.aggregation == Indicator.Aggregation.POINT:
        return checks.Series.POINT
    return checks.Series.SINGLE


class Cell(NamedTuple):
    """A monthly value to check or write: which KPI series and month, and the text. (A
    tuple: an import builds 30,000, and a frozen dataclass costs three times as much.)"""

    kpi_id: int
    indicator: Indicator
    month: int
    series: str
    text: str


def check_cells(
    cells: list[Cell], readings: dict | None = None, stored_numbers: dict | None = None
) -> list[list[checks.Finding]]:
    """The findings of each cell, against the series as it would be after the write.

    `readings` ({text: Reading}) is filled as a side effect: a workbook repeats a few
    hundred texts thousands of times, and the writer reads them again. `stored_numbers`
    ({(kpi id, series): {month: value}} of every stored number of the cells' KPIs), when
    the caller has read them already; else they are read here."""
    readings = {} if readings is None else readings
    for cell in cells:
        if cell.text not in readings:
            readings[cell.text] = read_value(cell.text)
    series_values = _series_after(cells, readings, stored_numbers)
    bounds = {key: checks.outlier_bound(values.values()) for key, values in series_values.items()}
    # (indicator id, series) → what check_monthly needs to know of them, and its findings
    # per text for that kind
    kinds, by_kind = {}, {}
    results = []
    for cell in cells:
        indicator = cell.indicator
        known = kinds.get((indicator.id, cell.series))
        if known is None:
            kind = (
                indicator.unit,
                indicator.direction == Direction.QUALITATIVE,
                series_kind(indicator, cell.series),
            )
            known = kinds[(indicator.id, cell.series)] = (kind, by_kind.setdefault(kind, {}))
        kind, memo = known
        reading = readings[cell.text]
        findings = memo.get(cell.text)
        if findings is None:
            unit, qualitative, series = kind
            findings = memo[cell.text] = checks.check_monthly(
                cell.text,
                unit=unit,
                qualitative=qualitative,
                series=series,
                max_length=MONTHLY_TEXT_LENGTH,
                reading=reading,
            )
        unit = reading.unit or indicator.unit
        bound = bounds.get((cell.kpi_id, cell.series))
        if (
            bound is not None
            and reading.is_number
            and abs(reading.value) > bound
            and checks.may_be_outlier(reading.value, unit)
            and not (findings and any(f.is_error for f in findings))
        ):
            values = series_values[(cell.kpi_id, cell.series)]
            others = [v for month, v in values.items() if month != cell.month]
            found = checks.check_outlier(cell.text, reading.value, others, unit=unit)
            findings = findings + found
        results.append(findings)
    return results


@dataclass(frozen=True)
class Checked:
    """What `check` found for a set of cells, for the writer that checked them first (the
    import's preview) to hand on to `write_monthly_values`, which then checks only cells
    it has no verdict for instead of reading a national workbook twice."""

    findings: dict  # (kpi id, month, series, text) → the cell's findings
    readings: dict  # text → its Reading
    in_order: list  # the findings of each cell checked, in the order of the cells


def check(cells: list[Cell], stored_numbers: dict | None = None) -> Checked:
    readings = {}
    found = check_cells(cells, readings, stored_numbers)
    keys = ((c.kpi_id, c.month, c.series, c.text) for c in cells)
    return Checked(dict(zip(keys, found, strict=True)), readings, found)


def _series_after(cells: list[Cell], readings: dict, stored_numbers: dict | None) -> dict:
    if stored_numbers is None:
        stored_numbers = _stored_numbers(sorted({cell.kpi_id for cell in cells}))
    values = defaultdict(dict, {key: dict(months) for key, months in stored_numbers.items()})
    for cell in cells:
        reading = readings[cell.text]
        series = values[(cell.kpi_id, cell.series)]
        if reading.is_number:
            series[cell.month] = reading.value
        else:
            series.pop(cell.month, None)
    return values


def _stored_numbers(kpi_ids: list[int]) -> dict:
    """{(kpi id, series): {month: value}} of the numbers stored for these KPIs."""
    numbers = defaultdict(dict)
    for start in range(0, len(kpi_ids), BATCH_SIZE):
        stored = (
            MonthlyValue.objects.filter(
                kpi_id__among=kpi_ids[start : start + BATCH_SIZE], value__isnull=False
            )
            .order_by()
            .values_list("kpi_id", "series", "month", "value")
        )
        for kpi_id, series, month, value in stored:
            numbers[(kpi_id, series)][month] = value
    return numbers


def check_kpi(kpi: Kpi, before: dict | None = None) -> list[checks.Finding]:
    """Findings for the KPI's texts that differ from `before` (all of them when new): a
    stored text is not refused again because another field of the row changes."""
    unit = kpi.indicator.unit if kpi.indicator_id else ""
    findings = []
    for name, label in KPI_TEXTS.items():
        text = getattr(kpi, name)
        if before is not None and before.get(name) == text:
            continue
        max_length = Kpi._meta.get_field(name).max_length
        found = checks.check_kpi_text(
            label, text, unit=unit, max_length=max_length, target=name == "target_text"
        )
        findings += found
    return findings


def _enforce(findings: list[Finding], source: Source) -> None:
    """Refuse on any error, and on warnings the person has not confirmed."""
    if any(f.finding.is_error for f in findings) or (findings and not source.confirmed):
        raise Refused(findings)


# --- monthly values ----------------------------------------------------------------------


@dataclass(frozen=True)
class MonthlyEdit:
    """One cell as a person saved it: `seen_version` is the version the form showed
    (0: the cell had no value), checked again by a conditional UPDATE of `row`, the stored
    value the writer read (None for a new cell)."""

    kpi: Kpi
    month: int
    series: str
    text: str
    seen_version: int
    row: MonthlyValue | None = None


def save_monthly_values(edits: list[MonthlyEdit], source: Source) -> list[MonthlyValue]:
    """Write people's edits, all or nothing; raises Refused or VersionConflict.

    Runs in the caller's transaction when there is one (the entry services lock the plan
    row first), else in its own.
    """
    cells = [Cell(e.kpi.pk, e.kpi.indicator, e.month, e.series, e.text) for e in edits]
    findings = [
        Finding(edit, finding)
        for edit, found in zip(edits, check_cells(cells), strict=True)
        for finding in found
    ]
    _enforce(findings, source)
    reasons = _reasons(edits, findings, source)
    now = timezone.now()
    saved, conflicts = [], []
    with transaction.atomic():
        for edit in edits:
            value = _write_edit(edit, source, reasons[id(edit)], now)
            if value is None:
                conflicts.append(edit)
            else:
                saved.append(value)
        if conflicts:
            raise VersionConflict(conflicts)
        _refresh_outlooks_of({e.kpi.pk for e in edits})
    return saved


def _write_edit(edit: MonthlyEdit, source: Source, reason: str, now) -> MonthlyValue | None:
    user = source.history_user
    if edit.seen_version == 0:
        value = MonthlyValue(
            kpi=edit.kpi, month=edit.month, series=edit.series, text=edit.text, updated_by=user
        )
        value.read_text()
        value._history_user, value._change_reason = user, reason
        try:
            with transaction.atomic():
                value.save()
        except IntegrityError:
            return None  # someone created the cell meanwhile
        return value
    row = edit.row
    if row is None:
        return None
    row.text = edit.text
    row.read_text()
    written = MonthlyValue.objects.filter(pk=row.pk, version=edit.seen_version).update(
        text=row.text,
        value=row.value,
        unit=row.unit,
        updated_by=user,
        updated_at=now,
        version=F("version") + 1,
    )
    if not written:
        return None
    row.version, row.updated_by, row.updated_at = edit.seen_version + 1, user, now
    MonthlyValue.history.bulk_history_create(
        [row], update=True, default_user=user, default_change_reason=reason, default_date=now
    )
    return row


def write_monthly_values(
    create: list, update: list, source: Source, *, indicators, checked: Checked | None = None
) -> None:
    """Bulk form for imports and undo: rows the caller prepared (their texts set, updated
    rows read under a lock in the same transaction). `indicators` maps indicator id →
    Indicator, for the check; `checked`, what `check` found for these cells in the same
    transaction. Versions are raised here; one history row per value, with its own reason
    (a confirmed warning is named on its row)."""
    objects = create + update
    keys = [(o.kpi_id, o.month, o.series, o.text) for o in objects]
    if checked is not None and all(key in checked.findings for key in keys):
        found, readings = [checked.findings[key] for key in keys], checked.readings
    else:
        kpi_indicators = dict(
            Kpi.objects.filter(pk__among={o.kpi_id for o in objects})
            .order_by()
            .values_list("pk", "indicator_id")
        )
        cells = [
            Cell(o.kpi_id, indicators[kpi_indicators[o.kpi_id]], o.month, o.series, o.text)
            for o in objects
        ]
        readings = {}
        found = check_cells(cells, readings)
    findings = [
        Finding(obj, finding)
        for obj, cell_findings in zip(objects, found, strict=True)
        for finding in cell_findings
    ]
    _enforce(findings, source)
    reasons = _reasons(objects, findings, source)
    now = timezone.now()
    user = source.history_user
    # By key: the relation's descriptor costs more than the rest of the loop (30,000 rows).
    user_id = user.pk if user is not None else None
    updated_by = MonthlyValue.updated_by.field
    for obj in objects:
        obj.read_text(readings[obj.text])
        obj.updated_by_id, obj.updated_at = user_id, now
        if updated_by.is_cached(obj):
            updated_by.set_cached_value(obj, user)
    for obj in update:
        obj.version += 1
    if create:
        if not bulk.insert(MonthlyValue, create):
            _read_back_ids(create)
        bulk.insert_history(MonthlyValue, create, user=user, date=now, reasons=reasons)
    if update:
        names = ["text", "value", "unit", "updated_by", "updated_at", "version"]
        bulk.update(MonthlyValue, update, names)
        bulk.insert_history(
            MonthlyValue, update, user=user, date=now, reasons=reasons, history_type="~"
        )
    _refresh_outlooks_of({o.kpi_id for o in objects})


def _read_back_ids(objects: list[MonthlyValue]) -> None:
    """The new rows' primary keys, by natural key (unique per KPI, month and series)."""
    by_key = {(o.kpi_id, o.month, o.series): o for o in objects}
    kpi_ids = sorted({o.kpi_id for o in objects})
    for start in range(0, len(kpi_ids), BATCH_SIZE):
        stored = MonthlyValue.objects.filter(
            kpi_id__among=kpi_ids[start : start + BATCH_SIZE]
        ).order_by()
        for pk, *key in stored.values_list("pk", "kpi_id", "month", "series"):
            if (obj := by_key.get(tuple(key))) is not None:
                obj.pk = pk
                obj._state.adding, obj._state.db = False, MonthlyValue.objects.db


def delete_monthly_values(values: list[MonthlyValue], source: Source) -> None:
    with transaction.atomic():
        _delete(values, source)
        _refresh_outlooks_of({v.kpi_id for v in values})


# --- the year-end outlook (着地見込み) ------------------------------------------------------


def refresh_outlooks(keys: Iterable[tuple[int, int, int]]) -> int:
    """Project and store the outlook (kpis.outlook) of the KPIs of these (branch, indicator,
    year) and of the year after each, whose previous-year profile and baseline they are.

    A fixed number of queries: the KPIs of the years around, their months, and one UPDATE of
    the outlook fields of those whose outlook changed — no version and no history row: the
    outlook is derived from the months, whose history says what changed. Returns how many
    changed."""
    keys = set(keys)
    if not keys:
        return 0
    wanted = keys | {(b, i, y + 1) for b, i, y in keys}
    around = wanted | {(b, i, y - 1) for b, i, y in wanted}
    rows = (
        Kpi.objects.filter(
            branch_id__in={b for b, _, _ in keys},
            indicator_id__in={i for _, i, _ in keys},
            fiscal_year__start_year__in={y for _, _, y in around},
        )
        .order_by()
        .values_list(*_OUTLOOK_READ)
    )
    found = {}
    for row in rows:
        kpi = _OutlookRow(*row[: len(_OUTLOOK_READ) - 4], tuple(row[-4:]))
        if (key := (kpi.branch_id, kpi.indicator_id, kpi.year)) in around:
            found[key] = kpi
    if not any(key in found for key in wanted):
        return 0
    # This year's months of each, and last year's where they shape the projection (a level
    # is projected from its own months only: kpis.outlook).
    needed = {found[key].pk for key in wanted & found.keys()}
    for b, i, y in wanted & found.keys():
        before = found.get((b, i, y - 1))
        if before is not None and before.aggregation != Indicator.Aggregation.POINT:
            needed.add(before.pk)
    months, units = _months_of(needed)
    targets, changed = {}, []
    for key in wanted & found.keys():
        kpi = found[key]
        before = found.get((kpi.branch_id, kpi.indicator_id, kpi.year - 1))
        if kpi.target not in targets:
            targets[kpi.target] = parse_target(kpi.target)
        unit = kpi.unit or (next(iter(units[kpi.pk])) if len(units[kpi.pk]) == 1 else "")
        result = outlook.outlook(
            kpi.aggregation,
            unit,
            months.get(kpi.pk, {}),
            months.get(before.pk) if before else None,
            targets[kpi.target],
            Direction(kpi.direction),
            previous_actual=read_value(kpi.previous_actual),
            stored_previous_actual=read_value(before.actual) if before and before.actual else None,
            excellent_margin=kpi.margin,
        )
        new = (result.value, result.text, result.mark, result.basis)
        if result.value is not None and result.value.adjusted() >= checks.INTEGER_DIGITS:
            # Months near the columns' limit project beyond it: no outlook rather than a
            # failed save (PostgreSQL refuses the number, SQLite would store it inexactly).
            new = (None, "", "", "")
        if new != kpi.stored:
            # Plain objects: bulk.update reads the key and the fields by name.
            fields = dict(zip(Kpi.OUTLOOK_FIELDS, new, strict=True))
            changed.append(SimpleNamespace(pk=kpi.pk, **fields))
    bulk.update(Kpi, changed, list(Kpi.OUTLOOK_FIELDS))
    return len(changed)


class _OutlookRow(NamedTuple):
    pk: int
    branch_id: int
    indicator_id: int
    year: int
    margin: object
    target: str
    actual: str
    previous_actual: str
    aggregation: str
    unit: str
    direction: str
    stored: tuple  # the outlook fields as stored


_OUTLOOK_READ = (
    "pk",
    "branch_id",
    "indicator_id",
    "fiscal_year__start_year",
    "fiscal_year__excellent_margin",
    "target_text",
    "actual_text",
    "previous_actual_text",
    "indicator__aggregation",
    "indicator__unit",
    "indicator__direction",
    *Kpi.OUTLOOK_FIELDS,
)
# KPIs whose months one query reads: well under SQLite's bound on parameters.
OUTLOOK_BATCH = 5000


def _months_of(kpi_ids: set) -> tuple[dict, dict]:
    """({kpi id: {series: {month: value}}}, {kpi id: units}) of the numbers entered, each
    value to the decimals its text was written with (the column keeps six).

    Plain rows from the cursor: a national import recomputes the outlooks of thousands of
    KPIs over two years of months, and model rows or reading the texts again cost several
    times the query (docs/OUTLOOK.md)."""
    months = defaultdict(lambda: defaultdict(dict))
    units = defaultdict(set)
    written = {}
    table = MonthlyValue._meta.db_table
    ordered = sorted(kpi_ids)
    with connections[router.db_for_write(MonthlyValue)].cursor() as cursor:
        for start in range(0, len(ordered), OUTLOOK_BATCH):
            chunk = ordered[start : start + OUTLOOK_BATCH]
            cursor.execute(
                f"SELECT kpi_id, series, month, value, unit, text FROM {table} "
                f"WHERE value IS NOT NULL AND kpi_id IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            for kpi_id, series, month, value, unit, text in cursor.fetchall():
                if text not in written:  # a text is one number: read each once
                    written[text] = _as_written(value, text)
                if (number := written[text]) is not None:
                    months[kpi_id][series][month] = number
                    units[kpi_id].add(unit)
    return months, units


def _as_written(value, text: str) -> Decimal | None:
    """The stored number (a float from SQLite, a Decimal from PostgreSQL) to the decimals of
    its text: the digits after its first decimal point (full-width too). None for a number
    the column cannot hold (written around the write path): pages show its text only."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not fits(number, *_COLUMN):
        return None
    places = 0
    point = max(text.find("."), text.find("．"))
    if point >= 0:
        while point + 1 + places < len(text) and text[point + 1 + places] in _DIGITS:
            places += 1
    return number.quantize(_PLACES[min(places, len(_PLACES) - 1)])


_VALUE = MonthlyValue._meta.get_field("value")
_COLUMN = (_VALUE.max_digits, _VALUE.decimal_places)
_DIGITS = frozenset("0123456789０１２３４５６７８９")
_PLACES = [Decimal(1).scaleb(-n) for n in range(7)]


def _refresh_outlooks_of(kpi_ids: set) -> None:
    keys = (
        Kpi.objects.filter(pk__among=kpi_ids)
        .order_by()
        .values_list("branch_id", "indicator_id", "fiscal_year__start_year")
    )
    refresh_outlooks(keys)


# --- KPIs ----------------------------------------------------------------------------------


def save_kpis(kpis: list[Kpi], source: Source, *, marks_set: Iterable[Kpi] = ()) -> list[Kpi]:
    """Create or update KPIs (new ones have no primary key), then evaluate their neighbours.

    `marks_set` are the KPIs whose mark the writer sets now (a person choosing a mark, an
    import row that carries one): their manual mark is fresh, not stale. Returns the KPIs
    written (those whose content changed).
    """
    with transaction.atomic():
        written = _write_kpis(kpis, source, marks_set={id(k) for k in marks_set}, check=True)
        _refresh_neighbours(written, source)
    return written


def delete_kpis(kpis: list[Kpi], source: Source) -> None:
    """Delete KPIs (their monthly values go with them) and evaluate their neighbours."""
    with transaction.atomic():
        keys = [_key(k) for k in kpis]
        # Their monthly values first, so that their history rows carry the reason too.
        _delete(list(MonthlyValue.objects.filter(kpi__in=kpis)), source)
        _delete(kpis, source)
        _refresh_neighbours_of(keys, source)
        refresh_outlooks(keys)  # the next year's, whose profile and baseline they were


def acknowledge_publication(plan: BranchPlan, source: Source) -> int:
    """Publishing (again) makes the live rows the published ones: the flags go."""
    flagged = list(
        Kpi.objects.filter(
            branch_id=plan.branch_id,
            fiscal_year_id=plan.fiscal_year_id,
            changed_after_publication=True,
        ).select_related("fiscal_year", "indicator")
    )
    for kpi in flagged:
        kpi.changed_after_publication = False
    with transaction.atomic():
        _write_kpis(flagged, source, marks_set=set(), check=False)
    return len(flagged)


def _write_kpis(kpis, source: Source, *, marks_set: set, check: bool) -> list:
    if not kpis:
        return []
    existing = [k for k in kpis if k.pk is not None]
    stored = {
        k.pk: k
        for k in Kpi.objects.filter(pk__in=[k.pk for k in existing]).select_related(
            "fiscal_year", "indicator"
        )
    }
    befores = {pk: _image(k) for pk, k in stored.items()}
    for kpi in existing:
        if kpi.pk in stored:
            # The outlook follows the months (refresh_outlooks), not the KPI read before.
            for name in Kpi.OUTLOOK_FIELDS:
                setattr(kpi, name, getattr(stored[kpi.pk], name))
    findings = []
    if check:
        for kpi in kpis:
            findings += [Finding(kpi, f) for f in check_kpi(kpi, befores.get(kpi.pk))]
    _enforce(findings, source)
    previous = _previous_actuals(kpis)
    for kpi in sorted(kpis, key=lambda k: k.fiscal_year.start_year):
        kpi.evaluate_texts(previous.get(_key(kpi)))
        previous[(kpi.branch_id, kpi.indicator_id, kpi.fiscal_year.start_year + 1)] = (
            kpi.actual_text
        )
    published = _published_plans(kpis)
    create, update = [], []
    for kpi in kpis:
        before = befores.get(kpi.pk)
        _apply_mark_rules(kpi, before, id(kpi) in marks_set, published)
        if before is None:
            create.append(kpi)
        elif _image(kpi) != before:
            kpi.version = stored[kpi.pk].version + 1
            update.append(kpi)
    reasons = _reasons(kpis, findings, source)
    user = source.history_user
    now = timezone.now()
    for kpi in create + update:
        kpi._change_reason = reasons[id(kpi)]  # simple-history reads it per row
    if create:
        bulk_create_with_history(
            create, Kpi, batch_size=BATCH_SIZE, default_user=user, default_date=now
        )
    if update:
        for kpi in update:
            kpi.updated_at = now
        names = [f.name for f in Kpi._meta.concrete_fields if not f.primary_key]
        bulk.update(Kpi, update, names)
        Kpi.history.bulk_history_create(
            update, update=True, batch_size=BATCH_SIZE, default_user=user, default_date=now
        )
    refresh_outlooks(
        _key(kpi)
        for kpi in create + update
        if kpi.pk not in befores
        or any(getattr(kpi, name) != befores[kpi.pk][name] for name in _OUTLOOK_INPUTS)
    )
    return create + update


# What a KPI's outlook (and the next year's) depends on besides the months.
_OUTLOOK_INPUTS = ("target_text", "actual_text", "previous_actual_text", "indicator_id")


def _apply_mark_rules(kpi: Kpi, before: dict | None, mark_set: bool, published: set) -> None:
    verdict_moved = before is not None and any(
        getattr(kpi, name) != before[name] for name in Kpi.VERDICT_FIELDS
    )
    if kpi.mark_source != Kpi.MarkSource.MANUAL or mark_set or before is None:
        kpi.mark_stale = False
    elif any(getattr(kpi, name) != before[name] for name in ("achieved", "suggested_mark")):
        kpi.mark_stale = True
    if (kpi.branch_id, kpi.fiscal_year_id) in published and (before is None or verdict_moved):
        kpi.changed_after_publication = True


def _published_plans(kpis) -> set:
    pairs = {(k.branch_id, k.fiscal_year_id) for k in kpis}
    plans = BranchPlan.objects.filter(
        branch_id__in={b for b, _ in pairs},
        fiscal_year_id__in={y for _, y in pairs},
        status=BranchPlan.Status.PUBLISHED,
    ).values_list("branch_id", "fiscal_year_id")
    return {pair for pair in plans if pair in pairs}


def _previous_actuals(kpis) -> dict:
    """{(branch, indicator, year): the stored actual text of the year before}."""
    keys = {_key(k) for k in kpis}
    wanted = {(b, i, y - 1) for b, i, y in keys}
    rows = Kpi.objects.filter(
        branch_id__in={b for b, _, _ in wanted},
        indicator_id__in={i for _, i, _ in wanted},
        fiscal_year__start_year__in={y for _, _, y in wanted},
    ).values_list("branch_id", "indicator_id", "fiscal_year__start_year", "actual_text")
    return {(b, i, y + 1): text for b, i, y, text in rows if (b, i, y) in wanted}


def _refresh_neighbours(written: list[Kpi], source: Source) -> None:
    _refresh_neighbours_of([_key(k) for k in written], source, exclude={k.pk for k in written})


def _refresh_neighbours_of(keys, source: Source, exclude=frozenset()) -> None:
    """Evaluate the previous and next year's KPI of each (branch, indicator, year) again
    and write those whose evaluation changed."""
    if not keys:
        return
    years = {y + d for _, _, y in keys for d in (-1, 1)}
    wanted = {(b, i, y + d) for b, i, y in keys for d in (-1, 1)}
    candidates = [
        k
        for k in Kpi.objects.filter(
            branch_id__in={b for b, _, _ in keys},
            indicator_id__in={i for _, i, _ in keys},
            fiscal_year__start_year__in=years,
        ).select_related("fiscal_year", "indicator")
        if _key(k) in wanted and k.pk not in exclude
    ]
    if not candidates:
        return
    derived = replace(source, note="（前後の年度の変更による再評価）")
    _write_kpis(candidates, derived, marks_set=set(), check=False)


def _key(kpi: Kpi) -> tuple[int, int, int]:
    return (kpi.branch_id, kpi.indicator_id, kpi.fiscal_year.start_year)


def _image(obj) -> dict:
    return {
        f.attname: getattr(obj, f.attname)
        for f in type(obj)._meta.concrete_fields
        if f.name not in _BOOKKEEPING
    }


# --- shared ----------------------------------------------------------------------------------


def _reasons(objects, findings: list[Finding], source: Source) -> dict:
    """{id(obj): change reason}: the warnings a person confirmed on that row, named."""
    warned = defaultdict(list)
    for finding in findings:
        warned[id(finding.key)].append(finding.message)
    plain = source.reason()
    return {
        id(obj): source.reason(warned[id(obj)]) if id(obj) in warned else plain for obj in objects
    }


def _delete(objects, source: Source) -> None:
    """Delete with django-simple-history's "-" rows carrying the reason."""
    if not objects:
        return
    reason = source.reason()
    for obj in objects:
        obj._change_reason = reason
        obj._history_user = source.history_user
    collector = Collector(using=router.db_for_write(type(objects[0])))
    collector.collect(objects)
    collector.delete()


# --- the branch's own report: measures' 実施状況 and 課題, activities' marks ---------------

# What a branch writes of its report in the app, by model, in the pages' words.
REPORT_FIELDS = {
    Measure: {"narrative": "実施状況", "challenges": "課題"},
    Activity: {"mark": "結果"},
}
# An activity without a mark yet is blank.
ACTIVITY_MARKS = ("", *MARK_VALUES)


@dataclass(frozen=True)
class ReportEdit:
    """A measure's texts or an activity's mark as a person saved them: `values`, the
    fields they changed ({name: value}); `stamp`, the row's latest history id when the
    form showed it (0: it had none)."""

    row: Measure | Activity
    values: dict
    stamp: int


class StampMoved(Exception):
    """Rows someone changed (or deleted) since the form showed them; nothing was written.
    `latest` maps id(edit) to its row's latest history record (who and when), or None."""

    def __init__(self, edits: list[ReportEdit], latest: dict):
        super().__init__(f"{len(edits)}件がほかの人によって先に変更されました")
        self.edits = edits
        self.latest = latest


def report_stamps(model, pks) -> dict[int, int]:
    """{pk: the row's latest history id, 0 without history}: the stamp a form carries.
    Every writer of these rows — the entry pages, imports, their undo — adds a history
    row, so the stamp moves whenever the row changes."""
    pks = list(pks)
    stamps = dict(
        model.history.filter(id__in=pks)
        .order_by()
        .values("id")
        .annotate(stamp=Max("history_id"))
        .values_list("id", "stamp")
    )
    return {pk: stamps.get(pk, 0) for pk in pks}


def save_report(edits: list[ReportEdit], source: Source) -> list:
    """Write people's changes to measures' texts and activities' marks, all or nothing,
    with one history row per row written (the source's person, the channel as reason).

    Refuses (Refused) a mark other than ◎ ○ △ × — or blank, and (StampMoved) every edit
    whose row changed since its stamp — unless the row already holds what was typed.
    Returns the rows written."""
    findings = []
    for edit in edits:
        fields = REPORT_FIELDS[type(edit.row)]
        if unknown := set(edit.values) - set(fields):
            raise ValueError(f"not a report field of {type(edit.row).__name__}: {unknown}")
        mark = edit.values.get("mark")
        if mark is not None and mark not in ACTIVITY_MARKS:
            message = (
                f"「{mark}」は事業内容の結果に使えません。◎ ○ △ × — から選ぶか空欄にしてください。"
            )
            findings.append(
                Finding(edit, checks.Finding(checks.Level.ERROR, checks.Code.UNREADABLE, message))
            )
    _enforce(findings, source)
    by_model = defaultdict(list)
    for edit in edits:
        by_model[type(edit.row)].append(edit)
    with transaction.atomic():
        changed, moved = defaultdict(list), []
        for model, model_edits in by_model.items():
            pks = [edit.row.pk for edit in model_edits]
            # Locked first (PostgreSQL; SQLite's IMMEDIATE transaction holds the write lock
            # already), so that nobody writes between the stamp check and the write.
            rows = model.objects.select_for_update().order_by("pk").in_bulk(pks)
            stamps = report_stamps(model, pks)
            for edit in model_edits:
                row = rows.get(edit.row.pk)
                if row is not None and all(getattr(row, n) == v for n, v in edit.values.items()):
                    continue
                if row is None or stamps[row.pk] != edit.stamp:
                    moved.append(edit)
                    continue
                for name, value in edit.values.items():
                    setattr(row, name, value)
                changed[model].append(row)
        if moved:
            raise StampMoved(moved, _latest_records(moved))
        reason, user, now = source.reason(), source.history_user, timezone.now()
        for model, rows in changed.items():
            bulk.update(model, rows, list(REPORT_FIELDS[model]))
            model.history.bulk_history_create(
                rows, update=True, default_user=user, default_change_reason=reason, default_date=now
            )
    return [row for rows in changed.values() for row in rows]


def _latest_records(edits: list[ReportEdit]) -> dict:
    """{id(edit): the latest history record of its row, with its user}, or None."""
    latest = {}
    for model in {type(edit.row) for edit in edits}:
        pks = [edit.row.pk for edit in edits if type(edit.row) is model]
        records = model.history.filter(id__in=pks).select_related("history_user")
        for record in records.order_by("id", "history_id"):
            latest[(model, record.id)] = record
    return {id(edit): latest.get((type(edit.row), edit.row.pk)) for edit in edits}


# --- the plan itself: measures a branch adds, renumbers and retires ----------------------


def save_measures(measures: list[Measure], source: Source) -> list[Measure]:
    """Create or update measures (number, title, pillar, group) with one history row each;
    the KPIs under a measure keep their own history and evaluation."""
    reason, user = source.reason(), source.history_user
    with transaction.atomic():
        for measure in measures:
            measure._change_reason = reason
            measure._history_user = user
            measure.save()
    return measures


def delete_measures(measures: list[Measure], source: Source) -> None:
    """Delete measures with their activities and KPIs (through delete_kpis, so that the
    neighbouring years are evaluated again), each with a history row."""
    with transaction.atomic():
        delete_kpis(list(Kpi.objects.filter(measure__in=measures)), source)
        _delete(list(Activity.objects.filter(measure__in=measures)), source)
        _delete(list(measures), source)
