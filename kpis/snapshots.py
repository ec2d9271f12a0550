"""Published snapshots: what readers saw when a document of a branch's year was published.

Measures and activities keep no history, so a publication stores the field values of the
year's measures, activities, KPIs, monthly values and breakdowns (`capture`). Readers are
shown the snapshot rebuilt as unsaved model instances of the shape `kpis.summary` reads
(`measures_of`); branch members and admins see the working version and what differs from
the published one (`differences`).

Values are stored with each field's own conversion (`value_to_string` / `to_python`), so
decimals, dates and JSON come back as they were. A snapshot is read with the fields the
models have now: keys of removed fields are ignored, fields added later take their default.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from kpis import summary
from kpis.access import plan_published, results_published, visible
from kpis.models import (
    Activity,
    BranchPlan,
    Indicator,
    Kpi,
    Measure,
    MonthlyBreakdown,
    MonthlyValue,
    Pillar,
    PublishedSnapshot,
)
from kpis.vocabulary import circled

Document = PublishedSnapshot.Document

# Kept as JSON natively; other values (decimals, datetimes) through the field's own text.
_NATIVE = (str, int, bool, dict, list)

# (relation, model) of the rows stored under each row.
_CHILDREN = {
    Measure: (("activities", Activity), ("kpis", Kpi)),
    Kpi: (("monthly_values", MonthlyValue), ("breakdowns", MonthlyBreakdown)),
}

# The earlier years of a plan's multi-year KPI table (令和4年度実績 / 令和5年度目標).
EARLIER_YEARS = 2
EARLIER_FIELDS = ("target_text", "actual_text", "previous_actual_text", "tags")


def _dump(obj: models.Model) -> dict:
    row = {}
    for model_field in obj._meta.concrete_fields:
        value = model_field.value_from_object(obj)
        if value is not None and not isinstance(value, _NATIVE):
            value = model_field.value_to_string(obj)
        row[model_field.attname] = value
    for relation, _ in _CHILDREN.get(type(obj), ()):
        row[relation] = [_dump(child) for child in getattr(obj, relation).all()]
    return row


def _values(model, row: dict) -> dict:
    """The stored values of the model's current fields; a field missing from the row (added
    since) or unreadable keeps its default."""
    values = {}
    for model_field in model._meta.concrete_fields:
        if model_field.attname not in row:
            continue
        try:
            values[model_field.attname] = model_field.to_python(row[model_field.attname])
        except ValidationError:
            continue
    return values


def _build(model, row: dict) -> models.Model:
    return model(**_values(model, row))


def earlier_figures(branch, fiscal_year, reader=None) -> dict:
    """{indicator id: {start year: {target_text, actual_text, …}}}: the same branch's KPIs
    of the previous two years, in one query; only those `reader` may read, when given."""
    start = fiscal_year.start_year
    kpis = Kpi.objects.filter(
        branch=branch,
        fiscal_year__start_year__gte=start - EARLIER_YEARS,
        fiscal_year__start_year__lt=start,
    )
    if reader is not None:
        kpis = visible(reader, kpis)
    rows = kpis.values_list("indicator_id", "fiscal_year__start_year", *EARLIER_FIELDS)
    figures = defaultdict(dict)
    for indicator_id, year, *texts in rows:
        figures[indicator_id][year] = dict(zip(EARLIER_FIELDS, texts, strict=True))
    return dict(figures)


def capture(plan: BranchPlan, document: str, user, published_at=None) -> PublishedSnapshot:
    """Store the working version of the plan's year as published now (or at `published_at`)."""
    measures = summary.report_measures(plan.branch, plan.fiscal_year)
    earlier = earlier_figures(plan.branch, plan.fiscal_year)
    data = {
        "measures": [_dump(measure) for measure in measures],
        # The progress sheet shows the year before beside this one, month by month.
        "previous_months": _dump_previous_months(
            summary.previous_year_months(None, plan.branch, plan.fiscal_year)
        ),
        # JSON keys are texts: indicator and year ids are written as such.
        "earlier": {
            str(indicator): {str(year): texts for year, texts in years.items()}
            for indicator, years in earlier.items()
        },
    }
    return PublishedSnapshot.objects.create(
        plan=plan,
        document=document,
        published_at=published_at or timezone.now(),
        published_by=user,
        data=data,
    )


def _dump_previous_months(found: dict) -> dict:
    return {
        str(indicator): {
            "values": {
                series: {str(m): [_decimal_text(v), text] for m, (v, text) in months.items()}
                for series, months in previous.values.items()
            },
            "figures": {series: list(figure) for series, figure in previous.figures.items()},
        }
        for indicator, previous in found.items()
    }


def _decimal_text(value) -> str | None:
    return None if value is None else str(value)


def previous_months_of(snapshot: PublishedSnapshot) -> dict | None:
    """The year before's months as published with the snapshot; None for a snapshot stored
    before they were kept (the page then reads what the reader may read)."""
    stored = snapshot.data.get("previous_months")
    if stored is None:
        return None
    found = {}
    for indicator, previous in stored.items():
        months = summary.PreviousMonths()
        for series, values in previous.get("values", {}).items():
            months.values[series] = {
                int(month): (None if v is None else Decimal(v), text)
                for month, (v, text) in values.items()
            }
        months.figures = {series: tuple(f) for series, f in previous.get("figures", {}).items()}
        found[int(indicator)] = months
    return found


def latest(plan: BranchPlan | None, document: str) -> PublishedSnapshot | None:
    """The last publication of the document, in one query (none for a plan not published)."""
    if plan is None or plan.pk is None:
        return None
    return plan.snapshots.filter(document=document).order_by("-published_at", "-pk").first()


def _with_children(obj: models.Model, relation: str, children: list) -> None:
    """Set what `obj.<relation>.all()` returns, as prefetch_related would, without a query;
    a further filter on it finds nothing rather than reading the working tables."""
    queryset = getattr(obj, relation).model.objects.none()
    queryset._result_cache = children
    queryset._prefetch_done = True
    if not hasattr(obj, "_prefetched_objects_cache"):
        obj._prefetched_objects_cache = {}
    obj._prefetched_objects_cache[relation] = queryset


def measures_of(snapshot: PublishedSnapshot) -> list[Measure]:
    """The snapshot's measures as unsaved instances with activities, KPIs (indicator
    attached), monthly values and breakdowns set as prefetched: two queries (pillars,
    indicators), however large the year."""
    rows = snapshot.data.get("measures", [])
    plan = snapshot.plan
    pillars = Pillar.objects.in_bulk({row.get("pillar_id") for row in rows})
    indicators = Indicator.objects.in_bulk(
        {kpi.get("indicator_id") for row in rows for kpi in row.get("kpis", [])}
    )
    measures = []
    for row in rows:
        measure = _build(Measure, row)
        if measure.pillar_id not in pillars:
            continue  # a pillar deleted since cannot be shown under its heading
        measure.pillar = pillars[measure.pillar_id]
        measure.branch, measure.fiscal_year = plan.branch, plan.fiscal_year
        activities = [_build(Activity, item) for item in row.get("activities", [])]
        for activity in activities:
            activity.measure = measure
        kpis = []
        for item in row.get("kpis", []):
            kpi = _build(Kpi, item)
            if kpi.indicator_id not in indicators:
                continue
            kpi.indicator = indicators[kpi.indicator_id]
            kpi.measure, kpi.branch, kpi.fiscal_year = measure, plan.branch, plan.fiscal_year
            for relation, model in _CHILDREN[Kpi]:
                children = [_build(model, child) for child in item.get(relation, [])]
                for child in children:
                    child.kpi = kpi
                _with_children(kpi, relation, children)
            kpis.append(kpi)
        _with_children(measure, "activities", activities)
        _with_children(measure, "kpis", kpis)
        measures.append(measure)
    return measures


def earlier_of(snapshot: PublishedSnapshot) -> dict:
    """The multi-year figures stored with the snapshot, shaped as `earlier_figures` gives
    them (empty for a snapshot stored without them)."""
    figures = {}
    for indicator, years in snapshot.data.get("earlier", {}).items():
        figures[int(indicator)] = {
            int(year): {name: texts.get(name, "") for name in EARLIER_FIELDS}
            for year, texts in years.items()
        }
    return figures


# --- what differs from the published version ---------------------------------------------

# Bookkeeping, and what kpis.evaluation derives from the texts (a change of a text shows
# once, as the text); what a person writes and what readers read is compared.
_NOT_COMPARED = {
    "id",
    "branch_id",
    "fiscal_year_id",
    "measure_id",
    "kpi_id",
    "indicator_id",
    "pillar_id",
    "sort_key",
    "updated_at",
    "updated_by_id",
    "version",
    *Kpi.DERIVED_FIELDS,
    *Kpi.OUTLOOK_FIELDS,  # follows the months, whose changes are listed
    "mark_source",
    "mark_stale",
    "changed_after_publication",
}

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
KIND_LABELS = {ADDED: "追加", REMOVED: "削除", CHANGED: "変更"}


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class Difference:
    """A measure, activity or KPI added, removed or changed since the publication."""

    kind: str
    subject: str
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


def _shown(model_field, value) -> str:
    if value is None or value == "":
        return "（空欄）"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.BooleanField):
        return "はい" if value else "いいえ"
    return str(value)


def _field_changes(model, before: dict, after: dict) -> list[FieldChange]:
    """Fields whose value differs; only fields the published row has are compared, so a
    field added since the publication is not reported."""
    # Both rows are dumped the same way: equal as stored means equal, and most rows are.
    differing = [
        model_field
        for model_field in model._meta.concrete_fields
        if model_field.attname not in _NOT_COMPARED
        and model_field.attname in before
        and before[model_field.attname] != after.get(model_field.attname)
    ]
    if not differing:
        return []
    old, new = _values(model, before), _values(model, after)
    changes = []
    for model_field in differing:
        name = model_field.attname
        if old.get(name) == new.get(name):
            continue
        label = str(model_field.verbose_name)
        changes.append(
            FieldChange(
                label, _shown(model_field, old.get(name)), _shown(model_field, new.get(name))
            )
        )
    return changes


def _month_changes(before: dict, after: dict) -> list[FieldChange]:
    series = dict(MonthlyValue.Series.choices)

    def texts(kpi_row):
        return {
            (value.get("series"), value.get("month")): value.get("text") or ""
            for value in kpi_row.get("monthly_values", [])
        }

    def breakdowns(kpi_row):
        return {
            (row.get("series"), row.get("label")): (row.get("months") or {}, row.get("year_figure"))
            for row in kpi_row.get("breakdowns", [])
        }

    old, new = texts(before), texts(after)
    changes = [
        FieldChange(
            f"月次実績 {month}月（{series.get(kind, kind)}）",
            old.get((kind, month)) or "（空欄）",
            new.get((kind, month)) or "（空欄）",
        )
        for kind, month in sorted(
            old.keys() | new.keys(), key=lambda key: (key[0], (key[1] - 4) % 12)
        )
        if old.get((kind, month), "") != new.get((kind, month), "")
    ]
    old_rows, new_rows = breakdowns(before), breakdowns(after)
    for key in sorted(old_rows.keys() | new_rows.keys()):
        if old_rows.get(key) != new_rows.get(key):
            before_text = "あり" if key in old_rows else "（なし）"
            after_text = (
                ("変更あり" if key in old_rows else "あり") if key in new_rows else "（なし）"
            )
            changes.append(FieldChange(f"内訳「{key[1]}」", before_text, after_text))
    return changes


def differences(snapshot: PublishedSnapshot, measures: list[Measure]) -> list[Difference]:
    """What the working `measures` (as kpis.summary.report_measures loads them) change from
    the snapshot. Rows match by what identifies them in a plan — a measure by pillar and
    number, an activity by its measure and number, a KPI by its indicator — so a row
    imported again under a new id is the same row. One query at most (the names of the
    indicators of removed KPIs)."""
    published = snapshot.data.get("measures", [])
    working = [_dump(measure) for measure in measures]
    names = {kpi.indicator_id: kpi.indicator.name for m in measures for kpi in m.kpis.all()}

    def measure_key(row):
        return (row.get("pillar_id"), row.get("sort_key"))

    def measure_subject(row):
        return f"施策 {row.get('number_label', '')} {row.get('title', '')}".strip()

    old_measures = {measure_key(row): row for row in published}
    new_measures = {measure_key(row): row for row in working}
    found: list[Difference] = []
    old_kpis, new_kpis = {}, {}
    for key in [*old_measures, *(k for k in new_measures if k not in old_measures)]:
        old, new = old_measures.get(key), new_measures.get(key)
        if old is None or new is None:
            kind = ADDED if old is None else REMOVED
            found.append(Difference(kind, measure_subject(new or old)))
        else:
            changes = _field_changes(Measure, old, new)
            if changes:
                found.append(Difference(CHANGED, measure_subject(new), changes))
        row = new or old
        old_activities = {a.get("number"): a for a in (old or {}).get("activities", [])}
        new_activities = {a.get("number"): a for a in (new or {}).get("activities", [])}
        if old is not None and new is not None:
            for number in sorted(old_activities.keys() | new_activities.keys()):
                before, after = old_activities.get(number), new_activities.get(number)
                subject = f"事業内容 {row.get('number_label', '')} {circled(number)}"
                if before is None or after is None:
                    kind = ADDED if before is None else REMOVED
                    found.append(Difference(kind, subject))
                elif changes := _field_changes(Activity, before, after):
                    found.append(Difference(CHANGED, subject, changes))
        old_kpis.update({k.get("indicator_id"): k for k in (old or {}).get("kpis", [])})
        new_kpis.update({k.get("indicator_id"): k for k in (new or {}).get("kpis", [])})
    if missing := [pk for pk in old_kpis if pk not in names]:
        names.update(Indicator.objects.filter(pk__in=missing).values_list("pk", "name"))
    for indicator_id in [*old_kpis, *(k for k in new_kpis if k not in old_kpis)]:
        before, after = old_kpis.get(indicator_id), new_kpis.get(indicator_id)
        subject = f"KPI {names.get(indicator_id, '（削除された指標）')}"
        if before is None or after is None:
            found.append(Difference(ADDED if before is None else REMOVED, subject))
        elif changes := [*_field_changes(Kpi, before, after), *_month_changes(before, after)]:
            found.append(Difference(CHANGED, subject, changes))
    return found


# --- what a page shows ---------------------------------------------------------------------


@dataclass
class Publication:
    """A document of a branch's year as a page shows it: the version to show (None: the
    working one, as kpis.summary loads it), its last publication, the date it was reopened
    (再確認中) and, for the working version, what differs from the published one."""

    document: str
    measures: list[Measure] | None = None
    snapshot: PublishedSnapshot | None = None
    reopened_at: object = None
    differences: list[Difference] | None = None
    earlier: dict | None = None
    previous_months: dict | None = None

    @property
    def shows_snapshot(self) -> bool:
        return self.measures is not None and self.differences is None

    @property
    def document_label(self) -> str:
        return Document(self.document).label


def publication(
    branch, fiscal_year, plan: BranchPlan | None, document: str, *, working: bool
) -> Publication:
    """What the page of `document` shows a reader: `working` readers (admins, the branch's
    members) the working version, others the last snapshot. The plan page falls back to
    the results' snapshot when the plan was published only with them. A year published
    before snapshots were kept shows readers the working version. At most one query besides
    the version's own (`measures_of` or `report_measures`)."""
    if document == Document.PLAN and plan is not None and plan.plan_published_at:
        snapshot = latest(plan, Document.PLAN)
    elif results_published(plan) if document == Document.RESULTS else plan_published(plan):
        snapshot = latest(plan, Document.RESULTS)
    else:
        snapshot = None
    shown = Publication(document, snapshot=snapshot)
    if snapshot is not None and snapshot.document == Document.RESULTS and not plan.is_published:
        shown.reopened_at = plan.reopened_at
    if working:
        if snapshot is not None:
            shown.measures = summary.report_measures(branch, fiscal_year)
            shown.differences = differences(snapshot, shown.measures)
    elif snapshot is not None:
        shown.measures = measures_of(snapshot)
        shown.earlier = earlier_of(snapshot)
        shown.previous_months = previous_months_of(snapshot)
    return shown
