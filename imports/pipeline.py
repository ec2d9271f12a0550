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
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal

from django.apps import apps
from django.db import DatabaseError, models, router, transaction
from django.db.models import F
from django.db.models.deletion import Collector
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from imports import columns
from imports.models import ImportBatch
from imports.problems import Problem
from imports.reading import UnreadableFile, read_workbook
from imports.validation import Lookups, Validated, validate
from kpis import writes
from kpis.eras import era_label
from kpis.evaluation import ProblemCode
from kpis.models import (
    Activity,
    BranchPlan,
    FiscalYear,
    Indicator,
    Kpi,
    Measure,
    MonthlyValue,
    Pillar,
)
from kpis.notation import Kind, Reading, parse_target, parse_value

logger = logging.getLogger(__name__)

# Parents before children: the order rows are created in (and deleted in reverse).
MODEL_ORDER = [FiscalYear, Pillar, Indicator, BranchPlan, Measure, Activity, Kpi, MonthlyValue]
# Fields that say who/when, not what: not compared, never restored.
BOOKKEEPING = {"updated_at", "updated_by", "version"}
BATCH_SIZE = 500
MAX_STORED_PROBLEMS = 1000

TEXT_COLUMNS = {
    "target_text": ("target", "目標"),
    "actual_text": ("actual", "実績"),
    "previous_actual_text": ("previous_actual", "前年度実績"),
    "national_average_text": ("national_average", "全国平均"),
}


class UndoRefused(Exception):
    """The batch cannot be undone; the message says why and what to do."""


# --- snapshots: the values an import compares, records and restores ----------------------


@functools.cache
def tracked_fields(model) -> tuple[models.Field, ...]:
    return tuple(
        f for f in model._meta.concrete_fields if not f.primary_key and f.name not in BOOKKEEPING
    )


def snapshot(obj) -> dict:
    """The row's tracked values as JSON, decimals at their stored precision."""
    return {name: to_json(getattr(obj, name)) for name, to_json in _snapshot_fields(type(obj))}


@functools.cache
def _snapshot_fields(model) -> tuple:
    return tuple((f.attname, functools.partial(_jsonable, f)) for f in tracked_fields(model))


def _jsonable(field_, value):
    if value is None:
        return None
    if isinstance(field_, models.DecimalField):
        return _decimal_text(value, field_.decimal_places)
    if isinstance(value, str | int | bool | float):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


@functools.lru_cache(maxsize=1 << 14)
def _decimal_text(value: Decimal, places: int) -> str:
    # Cached on equality: 95.3 and 95.30 quantize to the same text.
    return format(Decimal(value).quantize(Decimal(1).scaleb(-places)), "f")


def _restore(obj, image: dict) -> None:
    for f in tracked_fields(type(obj)):
        if f.attname in image:
            setattr(obj, f.attname, f.to_python(image[f.attname]))


def _label(model) -> str:
    return model._meta.label_lower


def _has_history(model) -> bool:
    return hasattr(model._meta, "simple_history_manager_attribute")


# --- the plan: what an import would write -------------------------------------------------


@dataclass
class ModelChanges:
    create: list = field(default_factory=list)
    update: list = field(default_factory=list)
    before: dict = field(default_factory=dict)  # pk → snapshot before the import
    unchanged: int = 0
    untouched: int = 0

    def keep_or_update(self, obj, before: dict) -> None:
        """Count a row the file names: unchanged, or to update."""
        if not self.update_if_changed(obj, before):
            self.unchanged += 1

    def update_if_changed(self, obj, before: dict) -> bool:
        if snapshot(obj) == before:
            return False
        if obj.pk not in self.before:
            self.before[obj.pk] = before
            self.update.append(obj)
        return True


@dataclass
class Plan:
    kind: str
    changes: dict = field(default_factory=lambda: {m: ModelChanges() for m in MODEL_ORDER})
    problems: list[Problem] = field(default_factory=list)
    # Implausible values (kpis.checks): written only when the admin confirms them.
    warnings: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    new_indicators: list[str] = field(default_factory=list)
    # KPIs whose row sets a person's mark (結果): their mark is fresh, not stale.
    marks_set: list = field(default_factory=list)
    # The value check of a monthly workbook's cells, handed on to the write path.
    checked: writes.Checked | None = None

    def __getitem__(self, model) -> ModelChanges:
        return self.changes[model]

    @property
    def has_changes(self) -> bool:
        return any(c.create or c.update for c in self.changes.values())

    def counts(self) -> list[dict]:
        rows = []
        for model, change in self.changes.items():
            row = {
                "model": model._meta.model_name,
                "label": str(model._meta.verbose_name),
                "create": len(change.create),
                "update": len(change.update),
                "unchanged": change.unchanged,
                "untouched": change.untouched,
            }
            if any(row[k] for k in ("create", "update", "unchanged", "untouched")):
                rows.append(row)
        return rows


@dataclass
class Analysis:
    """Everything a preview shows: problems block, warnings need a confirmation; the plan
    says what would change."""

    kind: str = ""
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    plan: Plan | None = None

    @property
    def warnings(self) -> list[Problem]:
        return self.plan.warnings if self.plan else []


def read_and_validate(content: bytes, file_name: str) -> Validated:
    try:
        workbook = read_workbook(content, file_name)
    except UnreadableFile as error:
        return Validated(problems=[Problem(str(error))])
    return validate(workbook, Lookups())


def prepare(validated: Validated, user=None, *, lock=False) -> Plan:
    """Match the validated rows against the database and build the writes, in memory.

    With `lock` (inside the writing transaction) the stored rows read are locked until it
    ends: a person saving one of them meanwhile waits, then finds its version moved on and
    is shown the conflict, instead of the import overwriting the save with a stale image.
    (SQLite takes its write lock when the transaction begins, so this matters on PostgreSQL.)
    """
    if validated.kind == "monthly":
        return _prepare_monthly(validated, user, lock)
    return _prepare_kpis(validated, lock)


def _locked(queryset, lock: bool):
    return queryset.select_for_update(of=("self",)) if lock else queryset


def analyse(content: bytes, file_name: str) -> Analysis:
    """Read, validate and diff a file without writing anything."""
    validated = read_and_validate(content, file_name)
    analysis = Analysis(validated.kind, list(validated.problems), list(validated.notices))
    if validated.problems:
        return analysis
    plan = prepare(validated)
    analysis.plan = plan
    analysis.problems += plan.problems
    analysis.notices += plan.notices
    return analysis


# --- KPI workbooks --------------------------------------------------------------------------


def _prepare_kpis(validated: Validated, lock: bool) -> Plan:
    plan = Plan("kpi")
    measures = validated.measures.values()
    years = sorted({m.year for m in measures})
    branch_ids = {m.branch.pk for m in measures}
    pairs = {(m.branch.pk, m.year) for m in measures}

    fiscal_years = _fiscal_years(plan, years)
    _branch_plans(plan, validated, fiscal_years)
    pillars = _pillars(plan, validated)
    indicators = _indicators(plan, validated)

    existing_measures = {
        (m.branch_id, m.fiscal_year.start_year, m.pillar.number, m.number): m
        for m in Measure.objects.filter(
            branch_id__in=branch_ids, fiscal_year__start_year__in=years
        ).select_related("fiscal_year", "pillar")
    }
    measure_objects = {}
    changes = plan[Measure]
    for key, record in validated.measures.items():
        values = {"pillar": pillars[record.pillar], "title": record.title, **record.fields}
        measure = existing_measures.get(key)
        if measure is None:
            measure = Measure(
                branch=record.branch,
                fiscal_year=fiscal_years[record.year],
                number=record.number,
                **values,
            )
            changes.create.append(measure)
        else:
            before = snapshot(measure)
            for name, value in values.items():
                setattr(measure, name, value)
            changes.keep_or_update(measure, before)
        measure_objects[key] = measure
    changes.untouched = sum(
        1
        for key, m in existing_measures.items()
        if key not in measure_objects and (m.branch_id, key[1]) in pairs
    )

    _activities(plan, validated, existing_measures, measure_objects)
    _kpis(
        plan, validated, fiscal_years, indicators, measure_objects, years, branch_ids, pairs, lock
    )
    _say_what_stays(plan)
    return plan


def _fiscal_years(plan: Plan, years: list[int]) -> dict[int, FiscalYear]:
    found = {fy.start_year: fy for fy in FiscalYear.objects.filter(start_year__in=years)}
    plan[FiscalYear].unchanged = len(found)
    for year in years:
        if year not in found:
            found[year] = FiscalYear(start_year=year)
            plan[FiscalYear].create.append(found[year])
    return found


def _branch_plans(plan: Plan, validated: Validated, fiscal_years) -> None:
    pairs = {(m.branch, m.year) for m in validated.measures.values()}
    existing = set(
        BranchPlan.objects.filter(
            branch_id__in={b.pk for b, _ in pairs},
            fiscal_year__start_year__in={y for _, y in pairs},
        ).values_list("branch_id", "fiscal_year__start_year")
    )
    for branch, year in sorted(pairs, key=lambda p: (p[1], p[0].order)):
        if (branch.pk, year) in existing:
            plan[BranchPlan].unchanged += 1
        else:
            plan[BranchPlan].create.append(
                BranchPlan(branch=branch, fiscal_year=fiscal_years[year])
            )


def _pillars(plan: Plan, validated: Validated) -> dict[tuple[int, str], Pillar]:
    found = {(p.number, p.name): p for p in Pillar.objects.all()}
    used = {m.pillar for m in validated.measures.values()}
    for key in sorted(used):
        if key in found:
            plan[Pillar].unchanged += 1
        else:
            found[key] = Pillar(number=key[0], name=key[1])
            plan[Pillar].create.append(found[key])
    return found


def _indicators(plan: Plan, validated: Validated) -> dict[str, Indicator]:
    """The catalogue sheet first (create or update), then indicators only rows name."""
    found = {columns.indicator_key(i.name): i for i in Indicator.objects.all()}
    slugs = {i.slug for i in found.values()}
    changes = plan[Indicator]
    for record in validated.indicators:
        key = columns.indicator_key(record.name)
        indicator = found.get(key)
        if indicator is None:
            indicator = Indicator(name=record.name, **record.fields)
            indicator.slug = _unique_slug(record.name, slugs)
            found[key] = indicator
            changes.create.append(indicator)
            plan.new_indicators.append(record.name)
            continue
        before = snapshot(indicator)
        for name, value in record.fields.items():
            setattr(indicator, name, value)
        changes.keep_or_update(indicator, before)

    for record in validated.kpis:
        key = columns.indicator_key(record.indicator)
        indicator = found.get(key)
        if indicator is None:
            indicator = Indicator(name=record.indicator, unit=record.unit or _unit_of(record))
            indicator.slug = _unique_slug(record.indicator, slugs)
            found[key] = indicator
            changes.create.append(indicator)
            plan.new_indicators.append(record.indicator)
    used = {columns.indicator_key(r.indicator) for r in validated.kpis}
    catalogue = {columns.indicator_key(r.name) for r in validated.indicators}
    created = {columns.indicator_key(i.name) for i in changes.create}
    changes.unchanged += len(used - catalogue - created)
    return found


def _unit_of(record) -> str:
    """A new indicator's unit when the row has no 単位: the unit its values are written in."""
    for name in ("target_text", "actual_text", "previous_actual_text"):
        text = record.fields.get(name)
        if not text:
            continue
        reading = parse_target(text) if name == "target_text" else parse_value(text)
        unit = reading.unit or reading.baseline_unit
        if unit:
            return unit
    return ""


def _unique_slug(name: str, taken: set[str]) -> str:
    base = slugify(name, allow_unicode=True)[:190] or "indicator"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def _activities(plan: Plan, validated: Validated, existing_measures, measure_objects) -> None:
    measure_ids = [m.pk for m in existing_measures.values()]
    existing = {
        (a.measure_id, a.number): a for a in Activity.objects.filter(measure_id__in=measure_ids)
    }
    changes = plan[Activity]
    seen = set()
    for record in validated.activities:
        measure = measure_objects[record.measure.key]
        activity = existing.get((measure.pk, record.number)) if measure.pk else None
        values = {"text": record.text, **record.fields}
        if activity is None:
            changes.create.append(
                Activity(measure=measure, number=record.number, **{"mark": "", **values})
            )
            continue
        seen.add(activity.pk)
        before = snapshot(activity)
        for name, value in values.items():
            setattr(activity, name, value)
        changes.keep_or_update(activity, before)
    changes.untouched = sum(1 for a in existing.values() if a.pk not in seen)


def _kpis(
    plan, validated, fiscal_years, indicators, measure_objects, years, branch_ids, pairs, lock
):
    """Create or update the KPIs, then evaluate every KPI whose evaluation can change: the
    file's, next year's (their previous actual may be in the file) and, when the catalogue
    changed an indicator's direction, every KPI of that indicator."""
    nearby = sorted({y + d for y in years for d in (-1, 0, 1)})
    stored = list(
        _locked(
            Kpi.objects.filter(
                branch_id__in=branch_ids, fiscal_year__start_year__in=nearby
            ).select_related("fiscal_year", "indicator"),
            lock,
        )
    )
    redirected = [
        i
        for i in plan[Indicator].update
        if i.direction != plan[Indicator].before[i.pk]["direction"]
    ]
    if redirected:
        seen = {k.pk for k in stored}
        stored += [
            k
            for k in _locked(
                Kpi.objects.filter(indicator__in=redirected).select_related(
                    "fiscal_year", "indicator"
                ),
                lock,
            )
            if k.pk not in seen
        ]
    state = {}
    for kpi in stored:
        # The plan's indicator objects carry the catalogue's new direction.
        kpi.indicator = indicators[columns.indicator_key(kpi.indicator.name)]
        key = (kpi.branch_id, kpi.fiscal_year.start_year, columns.indicator_key(kpi.indicator.name))
        state[key] = kpi
    befores = {kpi.pk: snapshot(kpi) for kpi in stored}

    changes = plan[Kpi]
    in_file = {}
    for record in validated.kpis:
        indicator = indicators[columns.indicator_key(record.indicator)]
        fields = _with_units(record, indicator, plan)
        if fields is None:
            continue
        kpi = state.get(record.key)
        if kpi is None:
            # The display order comes from the file when a KPI is first imported; later
            # imports keep it (exports do not carry it).
            kpi = Kpi(
                branch=record.measure.branch,
                fiscal_year=fiscal_years[record.measure.year],
                indicator=indicator,
                order=record.order,
            )
            state[record.key] = kpi
        kpi.measure = measure_objects[record.measure.key]
        for name, value in fields.items():
            setattr(kpi, name, value)
        in_file[record.key] = (kpi, record)

    redirected_ids = {i.pk for i in redirected}
    to_evaluate = {key: kpi for key, (kpi, _) in in_file.items()}
    for (branch_id, year, indicator), kpi in state.items():
        previous = (branch_id, year - 1, indicator)
        if previous in in_file or kpi.indicator_id in redirected_ids:
            to_evaluate.setdefault((branch_id, year, indicator), kpi)
    for key in sorted(to_evaluate, key=lambda k: k[1]):
        kpi = to_evaluate[key]
        previous = state.get((key[0], key[1] - 1, key[2]))
        kpi.evaluate_texts(previous.actual_text if previous else None)

    for key, kpi in to_evaluate.items():
        if key not in in_file:
            changes.update_if_changed(kpi, befores[kpi.pk])
            continue
        record = in_file[key][1]
        if kpi.evaluation_problem_code == ProblemCode.UNIT_MISMATCH:
            plan.problems.append(record.where.problem(kpi.evaluation_problem, "actual"))
        for finding in writes.check_kpi(kpi, befores.get(kpi.pk)):
            where = record.where.problem(finding.message, "")
            (plan.problems if finding.is_error else plan.warnings).append(where)
        if record.fields.get("mark_source") == Kpi.MarkSource.MANUAL:
            plan.marks_set.append(kpi)
        if kpi.pk is None:
            changes.create.append(kpi)
        else:
            changes.keep_or_update(kpi, befores[kpi.pk])
    changes.untouched = sum(
        1
        for key, kpi in state.items()
        if kpi.pk and key not in in_file and (key[0], key[1]) in pairs
    )


def _with_units(record, indicator: Indicator, plan: Plan) -> dict | None:
    """The row's texts, with the unit added to bare numbers (`96.5` → `96.5%`); None after
    reporting a unit that contradicts the indicator's."""
    unit = record.unit or indicator.unit
    if record.unit and indicator.unit and record.unit != indicator.unit:
        message = (
            f"単位「{record.unit}」が指標「{indicator.name}」の単位（{indicator.unit}）と異なります"
        )
        plan.problems.append(record.where.problem(message, "unit"))
        return None
    fields = dict(record.fields)
    ok = True
    for name, (key, label) in TEXT_COLUMNS.items():
        text = fields.get(name)
        if not text:
            continue
        reading = parse_target(text) if name == "target_text" else parse_value(text)
        written = reading.unit or reading.baseline_unit
        if unit and written and written != unit:
            plan.problems.append(
                record.where.problem(
                    f"{label}「{text}」の単位（{written}）が指標の単位（{unit}）と異なります", key
                )
            )
            ok = False
        elif unit and _is_bare_number(reading):
            fields[name] = replace(reading, unit=unit).display()
    return fields if ok else None


def _is_bare_number(reading: Reading) -> bool:
    return reading.kind is Kind.NUMBER and reading.unit == "" and reading.value is not None


def _say_what_stays(plan: Plan) -> None:
    left = [
        f"{model._meta.verbose_name} {change.untouched}件"
        for model, change in plan.changes.items()
        if change.untouched
    ]
    if left:
        plan.notices.append(
            f"ファイルにない既存の行（{'、'.join(left)}）は変更せず、そのまま残ります。"
        )


# --- monthly workbooks ----------------------------------------------------------------------


def _prepare_monthly(validated: Validated, user, lock: bool) -> Plan:
    plan = Plan("monthly")
    records = validated.monthly
    years = {r.year for r in records}
    branch_ids = {r.branch.pk for r in records}
    pairs = {(r.branch.pk, r.year) for r in records}
    by_id = {i.pk: i for i in Indicator.objects.all()}
    indicators = {columns.indicator_key(i.name): i for i in by_id.values()}
    # Plain values, not model instances: a national workbook names thousands of KPIs.
    kpis = {
        (branch_id, year, columns.indicator_key(by_id[indicator_id].name)): (
            kpi_id,
            by_id[indicator_id],
        )
        for kpi_id, branch_id, year, indicator_id in Kpi.objects.filter(
            branch_id__in=branch_ids, fiscal_year__start_year__in=years
        ).values_list("pk", "branch_id", "fiscal_year__start_year", "indicator_id")
    }
    stored = {
        (v.kpi_id, v.month, v.series): v
        for v in _locked(
            MonthlyValue.objects.filter(
                kpi__branch_id__in=branch_ids, kpi__fiscal_year__start_year__in=years
            ).annotate(branch_id=F("kpi__branch_id"), year=F("kpi__fiscal_year__start_year")),
            lock,
        )
        if (v.branch_id, v.year) in pairs
    }
    cells, places = [], []
    for record in records:
        if record.kpi_key not in kpis:
            plan.problems.append(
                record.where.problem(_unknown_kpi(record, indicators), "indicator")
            )
            continue
        kpi_id, indicator = kpis[record.kpi_key]
        for month, text in record.values.items():
            reading = columns.read_value(text)
            if indicator.unit and _is_bare_number(reading):
                text = replace(reading, unit=indicator.unit).display()
            cells.append(writes.Cell(kpi_id, indicator, month, record.series, text))
            places.append(record)
    changes = plan[MonthlyValue]
    seen = set()
    user_id = user.pk if user is not None and user.is_authenticated else None
    readings = {}  # texts repeat across rows: each distinct one is read once
    plan.checked = writes.check(cells)
    for cell, record in zip(cells, places, strict=True):
        findings = plan.checked.findings[(cell.kpi_id, cell.month, cell.series, cell.text)]
        for finding in findings:
            problem = record.where.problem(f"{cell.month}月: {finding.message}", f"m{cell.month}")
            (plan.problems if finding.is_error else plan.warnings).append(problem)
        if any(f.is_error for f in findings):
            continue
        if cell.text not in readings:
            readings[cell.text] = columns.read_value(cell.text)
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
        before = snapshot(value)
        value.text = cell.text
        value.read_text(reading)
        if snapshot(value) == before:
            changes.unchanged += 1
            continue
        changes.before[value.pk] = before
        changes.update.append(value)
    changes.untouched = sum(1 for v in stored.values() if v.pk not in seen)
    _say_what_stays(plan)
    return plan


@functools.cache
def _monthly_value_columns() -> tuple:
    return tuple((f.attname, f.get_default()) for f in MonthlyValue._meta.concrete_fields)


def _new_monthly_value(**values) -> MonthlyValue:
    """MonthlyValue(**values), built by position: Django's fast path, a third of the cost
    over the 30,000 values of a national workbook. (The defaults are constants: None, 1.)"""
    return MonthlyValue(*(values.get(name, default) for name, default in _monthly_value_columns()))


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


# --- apply ---------------------------------------------------------------------------------


def apply(plan: Plan, batch: ImportBatch, user, *, confirmed: bool = False) -> dict:
    """Write the plan inside the caller's transaction; returns what undo needs.

    KPIs and monthly values go through the write path (kpis.writes), which checks them,
    raises their versions, evaluates them and their neighbours and keeps their history;
    `confirmed` says the admin confirmed the plan's warnings."""
    source = writes.Source(writes.Channel.IMPORT, user, f"#{batch.pk}", confirmed=confirmed)
    now = timezone.now()
    record = {"created": {}, "updated": {}}
    for model in MODEL_ORDER:
        change = plan[model]
        versions = {o.pk: o.version for o in change.update if hasattr(o, "version")}
        if model is Kpi:
            _relink(change.create + change.update)
            writes.save_kpis(change.create + change.update, source, marks_set=plan.marks_set)
        elif model is MonthlyValue:
            indicators = {i.pk: i for i in Indicator.objects.all()}
            writes.write_monthly_values(
                change.create, change.update, source, indicators=indicators, checked=plan.checked
            )
        else:
            _write_parents(model, change, source, now)
        if change.create:
            record["created"][_label(model)] = [_image(o) for o in change.create]
        if change.update:
            record["updated"][_label(model)] = [
                {**_image(o), "before": change.before[o.pk], "before_version": versions.get(o.pk)}
                for o in change.update
            ]
    return record


def _image(obj) -> dict:
    """What undo compares and restores: the row's values and, where kept, its version."""
    image = {"id": obj.pk, "after": snapshot(obj)}
    if hasattr(obj, "version"):
        image["version"] = obj.version
    return image


def _relink(kpis) -> None:
    """The parents a KPI was built with were created since: take their new keys."""
    for kpi in kpis:
        kpi.fiscal_year, kpi.indicator, kpi.measure = kpi.fiscal_year, kpi.indicator, kpi.measure


def _write_parents(model, change: ModelChanges, source, now) -> None:
    """Years, pillars, indicators, plans, measures and activities, with history where kept."""
    reason, user = source.reason(), source.history_user
    if change.create:
        if _has_history(model):
            bulk_create_with_history(
                change.create,
                model,
                batch_size=BATCH_SIZE,
                default_user=user,
                default_change_reason=reason,
                default_date=now,
            )
        else:
            model.objects.bulk_create(change.create, batch_size=BATCH_SIZE)
    if change.update:
        names = [f.name for f in tracked_fields(model)]
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            for obj in change.update:
                obj.updated_at = now
            names.append("updated_at")
        _update(model, change.update, names, user, reason, now)


def _update(model, objects, names: list[str], user, reason: str, now) -> None:
    """Bulk UPDATE of `names`, with a history row per object where the model keeps one."""
    if _has_history(model):
        bulk_update_with_history(
            objects,
            model,
            names,
            batch_size=BATCH_SIZE,
            default_user=user,
            default_change_reason=reason,
            default_date=now,
        )
    else:
        model.objects.bulk_update(objects, names, batch_size=BATCH_SIZE)


# --- service functions: what the views and commands call ------------------------------------


def _batch_for(content: bytes, file_name: str, user) -> ImportBatch:
    return ImportBatch(
        file_name=file_name[:255],
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content=content,
        created_by=user if user and user.is_authenticated else None,
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


def preview(content: bytes, file_name: str, user) -> ImportBatch:
    """Analyse an uploaded file and keep it, with what it would change, as a batch."""
    batch = _batch_for(content, file_name, user)
    analysis = analyse(content, file_name)
    same = (
        ImportBatch.objects.filter(sha256=batch.sha256, status=ImportBatch.Status.COMMITTED)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if same:
        analysis.notices.append(f"同じ内容のファイルを 取り込み #{same} で取り込み済みです。")
    _record_analysis(batch, analysis)
    batch.save()
    return batch


def commit(batch: ImportBatch, user, *, confirm_warnings: bool = False) -> ImportBatch:
    """Validate the kept file again and write it, all or nothing. A file with warnings is
    written only with `confirm_warnings`; without it the batch stays to be confirmed."""
    content = bytes(batch.content)
    validated = read_and_validate(content, batch.file_name)
    if validated.problems:
        _record_analysis(batch, Analysis(validated.kind, validated.problems, validated.notices))
        batch.save()
        return batch
    try:
        with transaction.atomic():
            locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
            if locked.status != ImportBatch.Status.PREVIEWED:
                return locked
            _write(batch, validated, user, confirm_warnings)
    except _Rejected as rejected:
        _record_analysis(batch, rejected.analysis)
        batch.save()
    except DatabaseError:
        logger.exception("Import #%s failed while writing", batch.pk)
        batch.refresh_from_db()
        batch.status = ImportBatch.Status.FAILED
        batch.errors = [
            Problem(
                "保存中にデータベースのエラーが起きたため、何も変更していません。"
                "もう一度お試しください。"
            ).as_dict()
        ]
        batch.error_total = 1
        batch.save()
    return batch


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
    try:
        with transaction.atomic():
            batch.kind = validated.kind
            batch.save()
            analysis = _write(batch, validated, user, confirm_warnings)
    except _Rejected as rejected:
        return None, rejected.analysis
    return batch, analysis


class _Rejected(Exception):
    def __init__(self, analysis: Analysis):
        self.analysis = analysis


def _write(batch: ImportBatch, validated: Validated, user, confirmed: bool) -> Analysis:
    plan = prepare(validated, user, lock=True)
    analysis = Analysis(validated.kind, plan.problems, validated.notices + plan.notices, plan)
    if plan.problems or (plan.warnings and not confirmed):
        raise _Rejected(analysis)
    batch.changes = apply(plan, batch, user, confirmed=confirmed)
    _record_analysis(batch, analysis)
    batch.status = ImportBatch.Status.COMMITTED
    batch.committed_at = timezone.now()
    batch.save()
    logger.info("Import #%s (%s) committed by %s", batch.pk, batch.file_name, user)
    return analysis


# --- undo ---------------------------------------------------------------------------------


def undo(batch: ImportBatch, user) -> ImportBatch:
    """Restore what a committed batch changed: before-images back, created rows deleted.

    Refused (UndoRefused, nothing changed) when a later import or a person changed any of
    those rows since — a raised version counts, even when the value was changed back — or
    added rows under the rows it created. KPIs and monthly values are restored and deleted
    through the write path, so their neighbours are evaluated again.
    """
    source = writes.Source(writes.Channel.UNDO, user, f"#{batch.pk}", confirmed=True)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != ImportBatch.Status.COMMITTED:
            raise UndoRefused(
                f"取り込み #{batch.pk} は「{batch.get_status_display()}」のため取り消せません。"
            )
        created = {apps.get_model(k): v for k, v in batch.changes.get("created", {}).items()}
        updated = {apps.get_model(k): v for k, v in batch.changes.get("updated", {}).items()}
        current = {}
        for model in MODEL_ORDER:
            ids = [e["id"] for e in created.get(model, []) + updated.get(model, [])]
            if ids:
                related = ("fiscal_year", "indicator") if model is Kpi else ()
                found = model.objects.filter(pk__in=ids).select_related(*related)
                current[model] = {o.pk: o for o in _locked(found, True)}
        _refuse_if_changed(batch, created, updated, current)

        now = timezone.now()
        for model in MODEL_ORDER:
            if not updated.get(model):
                continue
            objects, marks_set = [], []
            for entry in updated[model]:
                obj = current[model][entry["id"]]
                before = entry["before"]
                if model is Kpi and any(before[f] != getattr(obj, f) for f in Kpi.MARK_FIELDS):
                    marks_set.append(obj)
                _restore(obj, entry["before"])
                objects.append(obj)
            if model is Kpi:
                writes.save_kpis(objects, source, marks_set=marks_set)
            elif model is MonthlyValue:
                indicators = {i.pk: i for i in Indicator.objects.all()}
                writes.write_monthly_values([], objects, source, indicators=indicators)
            else:
                change = ModelChanges(update=objects)
                _write_parents(model, change, source, now)
            # What the rows' versions became: an earlier batch's undo follows the hop.
            for entry, obj in zip(updated[model], objects, strict=True):
                if hasattr(obj, "version"):
                    entry["undone_version"] = obj.version

        _refuse_if_depended_on(batch, created)
        for model in reversed(MODEL_ORDER):
            objects = list(current.get(model, {}).get(e["id"]) for e in created.get(model, []))
            if not objects:
                continue
            if model is Kpi:
                writes.delete_kpis(objects, source)
            elif model is MonthlyValue:
                writes.delete_monthly_values(objects, source)
            else:
                for obj in objects:
                    obj._change_reason = source.reason()
                    obj._history_user = source.history_user
                collector = Collector(using=router.db_for_write(model))
                collector.collect(objects)
                collector.delete()

        batch.status = ImportBatch.Status.UNDONE
        batch.undone_by = user if user and user.is_authenticated else None
        batch.undone_at = now
        batch.save()
    logger.info("Import #%s undone by %s", batch.pk, user)
    return batch


def _refuse_if_changed(batch, created, updated, current) -> None:
    """Every row the batch wrote must be as it left it: the same values and the same
    version — or versions that only later batches, undone since, moved on."""
    hops = _undone_hops(batch)
    changed = defaultdict(int)
    for entries in (created, updated):
        for model, rows in entries.items():
            for entry in rows:
                obj = current.get(model, {}).get(entry["id"])
                if obj is None or snapshot(obj) != entry["after"]:
                    changed[model] += 1
                elif hasattr(obj, "version"):
                    version = obj.version
                    hop = hops.get((_label(model), obj.pk), {})
                    while version != entry["version"] and version in hop:
                        version = hop[version]
                    changed[model] += version != entry["version"]
    changed = {model: n for model, n in changed.items() if n}
    if changed:
        which = "、".join(f"{m._meta.verbose_name} {n}件" for m, n in changed.items())
        raise UndoRefused(
            f"取り込み #{batch.pk} の後に、この取り込みで書いた行（{which}）が、後の取り込みか"
            "画面からの入力で変更または削除されています。後の変更を先に取り消すか、"
            "手で直してください。"
        )


def _undone_hops(batch) -> dict:
    """{(model label, id): {version after an undo: version before that batch}} of the
    later batches that were undone."""
    hops = defaultdict(dict)
    later = ImportBatch.objects.filter(pk__gt=batch.pk, status=ImportBatch.Status.UNDONE)
    for changes in later.values_list("changes", flat=True):
        for label, rows in changes.get("updated", {}).items():
            for entry in rows:
                if entry.get("undone_version") is not None:
                    hops[(label, entry["id"])][entry["undone_version"]] = entry["before_version"]
    return hops


def _refuse_if_depended_on(batch, created) -> None:
    """Rows added later under rows this batch created would be deleted with them."""
    ids = {model: {e["id"] for e in rows} for model, rows in created.items()}
    found = defaultdict(int)
    for model, own in ids.items():
        for relation in model._meta.related_objects:
            if relation.many_to_many or relation.related_model._meta.auto_created:
                continue
            related = relation.related_model
            children = related._base_manager.filter(**{f"{relation.field.name}__in": own})
            others = children.exclude(pk__in=ids.get(related, set())).count()
            if others:
                found[related] += others
    if found:
        which = "、".join(f"{m._meta.verbose_name} {n}件" for m, n in found.items())
        raise UndoRefused(
            f"取り込み #{batch.pk} で作成した行の下に、後から追加されたデータ（{which}）が"
            "あります。取り消すとそれらも消えるため、取り消せません。"
        )


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
