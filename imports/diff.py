"""What a preview shows row by row: each new or changed KPI, measure, activity, indicator
and monthly row, old → new, located to the file's row, with the row's warnings; and the
submitted or published plans the file changes."""

from collections import defaultdict

from django.apps import apps

from branches.models import Branch
from imports.applying import created_entries, updated_entries
from imports.columns import indicator_key
from imports.plan import Plan
from imports.validation import Validated
from kpis.eras import era_label
from kpis.models import (
    Activity,
    BranchPlan,
    FiscalYear,
    Indicator,
    Kpi,
    Measure,
    MonthlyBreakdown,
    MonthlyValue,
)
from kpis.vocabulary import MONTH_LABELS, SERIES_LABELS

# The rows a batch keeps for its preview; diff_total counts them all.
MAX_ROWS = 2000

NEW, CHANGED = "new", "changed"
STATUS_LABELS = {NEW: "新規", CHANGED: "変更"}

# What a person wrote or would notice, per model; derived values (parsed numbers, units,
# evaluation details) follow from these and would only repeat them.
SHOWN = {
    Measure: (
        "pillar_label",
        "number_label",
        "title",
        "group",
        "is_important",
        "is_difficult",
        "importance_reason",
        "difficulty_reason",
        "plan_text",
        "narrative",
        "challenges",
    ),
    Activity: ("subgroup", "text", "mark"),
    Indicator: ("name", "unit", "direction", "aggregation", "definition"),
    Kpi: (
        "description",
        "activity_number",
        "subgroup",
        "tags",
        "target_text",
        "actual_text",
        "actual_note",
        "previous_actual_text",
        "national_average_text",
        "national_rank",
        "achieved",
        "mark",
        "mark_reason",
        "note",
        "single_year_figure",
        "cumulative_year_figure",
    ),
}
KIND_LABELS = {
    "measure": "施策",
    "activity": "事業内容",
    "indicator": "指標",
    "kpi": "KPI",
    "monthly": "月次実績",
    "breakdown": "内訳",
}
PROTECTED = (BranchPlan.Status.SUBMITTED, BranchPlan.Status.PUBLISHED)


def row_diff(plan: Plan, validated: Validated) -> tuple[list[dict], int]:
    """(rows to keep, count of all rows) — each row {"kind", "label", "status", "place",
    "warnings", "cells": [{"field", "old", "new"}]}, in file order; rows with warnings are
    kept before others when there are more than MAX_ROWS."""
    places = _Places(validated, plan)
    branches = {b.pk: b.name for b in Branch.objects.all()}
    rows = _model_rows(
        plan,
        Measure,
        "measure",
        places,
        lambda m: _measure_label(m, branches),
        lambda m: places.measures.get(_measure_key(m), ""),
    )
    rows += _activity_rows(plan, places, branches)
    rows += _model_rows(
        plan,
        Indicator,
        "indicator",
        places,
        lambda i: f"指標「{i.name}」",
        lambda i: places.indicators.get(indicator_key(i.name), ""),
        created=False,  # the preview lists new indicators by name already
    )
    rows += _model_rows(
        plan,
        Kpi,
        "kpi",
        places,
        lambda k: _kpi_label(k, branches),
        lambda k: places.kpis.get(_kpi_key(k), ""),
    )
    rows += _monthly_rows(plan, places, branches, validated)
    rows += _breakdown_rows(plan, places, branches)
    for row in rows:
        row["warnings"] = places.warnings.get(row["place"], [])
    kept = sorted(rows, key=lambda r: (not r["warnings"], r["order"]))[:MAX_ROWS]
    kept.sort(key=lambda r: r["order"])
    for row in kept:
        del row["order"]
    return kept, len(rows)


class _Places:
    """Where in the file each record is (`KPI!12`), and the warnings of each row."""

    def __init__(self, validated: Validated, plan: Plan):
        self.sheets: dict[str, int] = {}
        self.measures = {k: self._place(m.where) for k, m in validated.measures.items()}
        self.activities = {
            (a.measure.key, a.number): self._place(a.where) for a in validated.activities
        }
        self.kpis = {k.key: self._place(k.where) for k in validated.kpis}
        self.monthly = {(*m.kpi_key, m.series): self._place(m.where) for m in validated.monthly}
        self.breakdowns = {b.key: self._place(b.where) for b in validated.breakdowns}
        self.indicators = {
            indicator_key(i.name): self._place(i.where) for i in validated.indicators
        }
        self.warnings = defaultdict(list)
        for warning in plan.warnings:
            self.warnings[f"{warning.sheet}!{warning.row}"].append(warning.message)

    def _place(self, where) -> str:
        self.sheets.setdefault(where.sheet, len(self.sheets))
        return f"{where.sheet}!{where.row}"

    def order(self, place: str) -> tuple:
        if not place:
            return (len(self.sheets), 0)
        sheet, _, row = place.rpartition("!")
        return (self.sheets.get(sheet, len(self.sheets)), int(row))


def _model_rows(plan, model, kind, places, label, place, *, created=True) -> list[dict]:
    change = plan[model]
    rows = []
    for obj in change.create if created else ():
        cells = [
            _cell(model, name, None, value)
            for name, value in _values(obj, model).items()
            if value not in (None, "", False)
        ]
        rows.append(_row(kind, label(obj), NEW, place(obj), cells, places))
    for obj in change.update:
        before = change.before[obj.pk]
        cells = [
            _cell(model, name, before.get(name), value)
            for name, value in _values(obj, model).items()
            if before.get(name) != value
        ]
        if cells:
            rows.append(_row(kind, label(obj), CHANGED, place(obj), cells, places))
    return rows


def _values(obj, model) -> dict:
    return {name: _jsonish(getattr(obj, name)) for name in SHOWN[model]}


def _jsonish(value):
    """As snapshots keep it (decimals and dates as text), to compare with a before-image."""
    return value if value is None or isinstance(value, str | int | bool | float) else str(value)


def _cell(model, name, old, new) -> dict:
    field = model._meta.get_field(name)
    return {
        "field": str(field.verbose_name),
        "old": _display(field, old),
        "new": _display(field, new),
    }


def _display(field, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def _row(kind, label, status, place, cells, places) -> dict:
    return {
        "kind": kind,
        "label": label,
        "status": status,
        "place": place,
        "cells": cells,
        "order": (*places.order(place), list(KIND_LABELS).index(kind)),
    }


def _measure_key(measure) -> tuple:
    """As `MeasureRecord.key`."""
    return (
        measure.branch_id,
        measure.fiscal_year.start_year,
        measure.pillar.number,
        measure.sort_key,
    )


def _kpi_key(kpi) -> tuple:
    return (kpi.branch_id, kpi.fiscal_year.start_year, indicator_key(kpi.indicator.name))


def _measure_label(measure, branches) -> str:
    return (
        f"{branches[measure.branch_id]} {era_label(measure.fiscal_year.start_year)} "
        f"施策{measure.number_label} {measure.title}"
    )


def _kpi_label(kpi, branches) -> str:
    return f"{branches[kpi.branch_id]} {era_label(kpi.fiscal_year.start_year)} {kpi.indicator.name}"


def _activity_rows(plan, places, branches) -> list[dict]:
    """Activities of stored measures come without theirs: read those in one query."""
    change = plan[Activity]
    field = Activity._meta.get_field("measure")
    missing = {a.measure_id for a in change.update if not field.is_cached(a)}
    if missing:
        measures = Measure.objects.filter(pk__in=missing).select_related("fiscal_year", "pillar")
        by_id = {m.pk: m for m in measures}
        for activity in change.update:
            if activity.measure_id in by_id:
                activity.measure = by_id[activity.measure_id]
    return _model_rows(
        plan,
        Activity,
        "activity",
        places,
        lambda a: f"{_measure_label(a.measure, branches)} 事業内容{a.number}",
        lambda a: places.activities.get((_measure_key(a.measure), a.number), ""),
    )


def _monthly_rows(plan, places, branches, validated) -> list[dict]:
    """One row per KPI and series, a cell per month written or changed."""
    change = plan[MonthlyValue]
    if not (change.create or change.update):
        return []
    kpis = _kpis_of(validated)
    grouped: dict[tuple, dict] = {}
    for value, old, status in [(v, None, NEW) for v in change.create] + [
        (v, change.before[v.pk].get("text"), CHANGED) for v in change.update
    ]:
        if old == value.text:
            continue
        row = grouped.setdefault((value.kpi_id, value.series), {"status": NEW, "cells": {}})
        if status == CHANGED:
            row["status"] = CHANGED
        row["cells"][value.month] = {
            "field": MONTH_LABELS[value.month],
            "old": old or "",
            "new": value.text,
        }
    rows = []
    for (kpi_id, series), found in grouped.items():
        branch_id, year, name = kpis[kpi_id]
        place = places.monthly.get((branch_id, year, indicator_key(name), series), "")
        label = f"{branches[branch_id]} {era_label(year)} {name}（{SERIES_LABELS[series]}）"
        cells = [found["cells"][m] for m in MONTH_LABELS if m in found["cells"]]
        rows.append(_row("monthly", label, found["status"], place, cells, places))
    return rows


BREAKDOWN_FIELDS = ("year_figure", "year_figure_label", "note")


def _breakdown_rows(plan, places, branches) -> list[dict]:
    """One row per breakdown series, a cell per month and written figure it sets."""
    change = plan[MonthlyBreakdown]
    if not (change.create or change.update):
        return []
    found = {o.kpi_id for o in change.create + change.update}
    kpis = {
        pk: (branch_id, year, name)
        for pk, branch_id, year, name in Kpi.objects.filter(pk__in=found).values_list(
            "pk", "branch_id", "fiscal_year__start_year", "indicator__name"
        )
    }
    rows = []
    for breakdown, status in [(b, NEW) for b in change.create] + [
        (b, CHANGED) for b in change.update
    ]:
        before = change.before.get(breakdown.pk, {}) if status == CHANGED else {}
        old_months = before.get("months") or {}
        cells = [
            {"field": label, "old": old_months.get(str(m), ""), "new": breakdown.months[str(m)]}
            for m, label in MONTH_LABELS.items()
            if str(m) in breakdown.months and old_months.get(str(m)) != breakdown.months[str(m)]
        ]
        cells += [
            _cell(MonthlyBreakdown, name, before.get(name), getattr(breakdown, name))
            for name in BREAKDOWN_FIELDS
            if (before.get(name) or "") != getattr(breakdown, name)
        ]
        if not cells:
            continue
        branch_id, year, name = kpis[breakdown.kpi_id]
        key = (branch_id, year, indicator_key(name), breakdown.series, breakdown.label)
        label = (
            f"{branches[branch_id]} {era_label(year)} {name}（{SERIES_LABELS[breakdown.series]}）"
            f" 内訳「{breakdown.label}」"
        )
        rows.append(_row("breakdown", label, status, places.breakdowns.get(key, ""), cells, places))
    return rows


def _kpis_of(validated: Validated) -> dict[int, tuple[int, int, str]]:
    """(branch id, year, indicator name) per KPI of the file's branches and years: by
    those, not by a list of ids, which a national workbook makes too long for one query."""
    pairs = validated.pairs
    return {
        kpi_id: (branch_id, year, name)
        for kpi_id, branch_id, year, name in Kpi.objects.filter(
            branch_id__in={b.pk for b, _ in pairs},
            fiscal_year__start_year__in={y for _, y in pairs},
        ).values_list("pk", "branch_id", "fiscal_year__start_year", "indicator__name")
    }


def protected_plans(plan: Plan) -> list[str]:
    """The submitted or published plans whose KPIs, measures or activities the file
    changes: "埼玉支部 令和5年度（公表済）". (A plan of a year not yet stored is a draft.)"""
    pairs = {
        (obj.branch_id, obj.fiscal_year_id)
        for model in (Measure, Kpi)
        for obj in plan[model].create + plan[model].update
    }
    activities = plan[Activity].create + plan[Activity].update
    pairs |= {(a.measure.branch_id, a.measure.fiscal_year_id) for a in activities}
    pairs = {pair for pair in pairs if pair[1] is not None}
    if not pairs:
        return []
    plans = BranchPlan.objects.filter(
        status__in=PROTECTED,
        branch_id__in={b for b, _ in pairs},
        fiscal_year_id__in={y for _, y in pairs},
    ).select_related("branch", "fiscal_year")
    return [str(p) for p in plans if (p.branch_id, p.fiscal_year_id) in pairs]


FILTERS = {
    "all": ("すべて", lambda row: True),
    "changed": ("変更", lambda row: row["status"] == CHANGED),
    "new": ("新規", lambda row: row["status"] == NEW),
    "warnings": ("警告あり", lambda row: bool(row["warnings"])),
}
PAGE_SIZE = 100


def filtered_page(rows: list[dict], show: str, page: int) -> dict:
    """One page of the stored rows under a filter (FILTERS), with each filter's count."""
    show = show if show in FILTERS else "all"
    chosen = [row for row in rows if FILTERS[show][1](row)]
    pages = max(1, -(-len(chosen) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows_of_page = [
        {
            **row,
            "kind_label": KIND_LABELS[row["kind"]],
            "status_label": STATUS_LABELS[row["status"]],
        }
        for row in chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    ]
    return {
        "show": show,
        "rows": rows_of_page,
        "page": page,
        "pages": pages,
        "filters": [
            (key, label, sum(1 for row in rows if test(row)))
            for key, (label, test) in FILTERS.items()
        ],
    }


UNDO_ROWS = 200


def undo_preview(changes: dict) -> dict:
    """What undoing a batch does, from its record (`batch.changes`): per model how many rows
    it deletes and restores, and the first UNDO_ROWS of them with the values it puts back."""
    counts, entries = {}, []
    recorded = {"created": created_entries(changes), "updated": updated_entries(changes)}
    for action, key in (("delete", "created"), ("restore", "updated")):
        for label, images in recorded[key].items():
            model = apps.get_model(label)
            row = counts.setdefault(
                label, {"label": model._meta.verbose_name, "delete": 0, "restore": 0}
            )
            row[action] += len(images)
            entries += [(model, action, image) for image in images]
    shown = entries[:UNDO_ROWS]
    names = _Names(shown)
    rows = []
    for model, action, image in shown:
        after, before = image["after"], image.get("before", {})
        fields = SHOWN.get(model, ("text",) if model is MonthlyValue else ())
        rows.append(
            {
                "model": model._meta.verbose_name,
                "action": action,
                "label": names.label(model, after),
                "cells": [
                    _cell(model, name, after.get(name), before.get(name))
                    for name in fields
                    if action == "restore" and after.get(name) != before.get(name)
                ],
            }
        )
    return {"counts": list(counts.values()), "rows": rows, "total": len(entries)}


class _Names:
    """Names for the ids in after-images, read in a fixed number of queries."""

    def __init__(self, shown):
        self.branches = {b.pk: b.name for b in Branch.objects.all()}
        self.years = dict(FiscalYear.objects.values_list("pk", "start_year"))
        kpi_ids = {image["after"].get("kpi_id") for _, _, image in shown} - {None}
        self.kpis = {
            pk: f"{self.branches.get(b, '')} {era_label(y)} {name}"
            for pk, b, y, name in Kpi.objects.filter(pk__in=kpi_ids).values_list(
                "pk", "branch_id", "fiscal_year__start_year", "indicator__name"
            )
        }
        indicator_ids = {i["after"].get("indicator_id") for _, _, i in shown} - {None}
        self.indicators = dict(
            Indicator.objects.filter(pk__in=indicator_ids).values_list("pk", "name")
        )

    def where(self, after) -> str:
        year = self.years.get(after.get("fiscal_year_id"))
        return f"{self.branches.get(after.get('branch_id'), '')} {era_label(year) if year else ''}"

    def label(self, model, after) -> str:
        if model is Kpi:
            return f"{self.where(after)} {self.indicators.get(after['indicator_id'], '')}"
        if model is Measure:
            return f"{self.where(after)} 施策{after.get('number_label', '')} {after['title']}"
        if model is MonthlyValue:
            series = SERIES_LABELS.get(after["series"], after["series"])
            return f"{self.kpis.get(after['kpi_id'], '')}（{series}）{after['month']}月"
        if model is Activity:
            return f"事業内容{after['number']} {after['text'][:40]}"
        if model is Indicator:
            return f"指標「{after['name']}」"
        if model is BranchPlan:
            return self.where(after)
        if model is FiscalYear:
            return era_label(after["start_year"])
        if "kpi_id" in after:
            return f"{self.kpis.get(after['kpi_id'], '')} {after.get('label', '')}"
        return str(after.get("name", ""))
