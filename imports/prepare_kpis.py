"""Step 2 for KPI workbooks: match the validated rows against the database, in memory."""

from dataclasses import replace

from django.utils.text import slugify

from imports import columns
from imports.plan import Plan, is_bare_number, locked, say_what_stays, snapshot
from imports.validation import Validated
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
    Pillar,
)
from kpis.notation import parse_target, parse_value
from kpis.numbering import NATIONAL_PILLARS

TEXT_COLUMNS = {
    "target_text": ("target", "目標"),
    "actual_text": ("actual", "実績"),
    "previous_actual_text": ("previous_actual", "前年度実績"),
    "national_average_text": ("national_average", "全国平均"),
}


def prepare_kpis(validated: Validated, lock: bool) -> Plan:
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
        (m.branch_id, m.fiscal_year.start_year, m.pillar.number, m.sort_key): m
        for m in Measure.objects.filter(
            branch_id__in=branch_ids, fiscal_year__start_year__in=years
        ).select_related("fiscal_year", "pillar")
    }
    measure_objects = {}
    changes = plan[Measure]
    for key, record in validated.measures.items():
        values = {
            "pillar": pillars[record.pillar[0]],
            "pillar_label": record.pillar[1],
            "number_label": record.number[0],
            "title": record.title,
            **record.fields,
        }
        measure = existing_measures.get(key)
        if measure is None:
            measure = Measure(
                branch=record.branch,
                fiscal_year=fiscal_years[record.year],
                sort_key=record.number[1],
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
    say_what_stays(plan)
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


def _pillars(plan: Plan, validated: Validated) -> dict[int, Pillar]:
    """The national pillars the rows name (created once, on the first import)."""
    found = {p.number: p for p in Pillar.objects.all()}
    for number in sorted({m.pillar[0] for m in validated.measures.values()}):
        if number in found:
            plan[Pillar].unchanged += 1
        else:
            found[number] = Pillar(number=number, name=NATIONAL_PILLARS[number])
            plan[Pillar].create.append(found[number])
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
    changed an indicator's direction, every KPI of that indicator. Other years' figures of
    the file's KPIs (令和4年度実績 in a 令和6年度 plan) fill the stored KPIs of those years
    where they have none."""
    other_years = {y for record in validated.kpis for y in record.other_years}
    nearby = sorted({y + d for y in years for d in (-1, 0, 1)} | other_years)
    stored = list(
        locked(
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
            for k in locked(
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

    filled = _fill_other_years(plan, validated, state, in_file)
    redirected_ids = {i.pk for i in redirected}
    to_evaluate = {key: kpi for key, (kpi, _) in in_file.items()}
    for key in filled:
        to_evaluate[key] = state[key]
    for (branch_id, year, indicator), kpi in state.items():
        previous = (branch_id, year - 1, indicator)
        if previous in in_file or previous in filled or kpi.indicator_id in redirected_ids:
            to_evaluate.setdefault((branch_id, year, indicator), kpi)
    for key in sorted(to_evaluate, key=lambda k: k[1]):
        kpi = to_evaluate[key]
        previous = state.get((key[0], key[1] - 1, key[2]))
        kpi.evaluate_texts(previous.actual_text if previous else None)

    for key, kpi in to_evaluate.items():
        if key not in in_file:
            if key in filled:
                for finding in writes.check_kpi(kpi, befores[kpi.pk]):
                    where = filled[key].where.problem(finding.message, "")
                    (plan.problems if finding.is_error else plan.warnings).append(where)
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


OTHER_YEAR_LABELS = {"target_text": "目標", "actual_text": "実績"}
# How many of each kind of other-year figure the notice names.
NOTICE_EXAMPLES = 5


def _fill_other_years(plan: Plan, validated: Validated, state: dict, in_file: dict) -> dict:
    """Write the file's figures of other years (令和5年度目標, 令和4年度実績 in a 令和6年度
    plan) into the stored KPIs of those years — same branch and indicator — where the field
    is blank; never over a stored value, and not for a year whose own rows are in the file.
    Says in a notice what was filled and what was left. Returns {key: record} of the KPIs
    it changed."""
    filled, done, stored, missing = {}, [], [], []
    for record in validated.kpis:
        branch_id, _, indicator = record.key
        for year, figures in sorted(record.other_years.items()):
            key = (branch_id, year, indicator)
            if key in in_file:
                continue
            kpi = state.get(key)
            name = f"{record.measure.branch.name} {era_label(year)}「{record.indicator}」"
            for field_name, text in figures.items():
                if not text:
                    continue
                what = f"{name}の{OTHER_YEAR_LABELS[field_name]}「{text}」"
                if kpi is None or kpi.pk is None:
                    # Last year's actual is this KPI's 前年度実績 too: that is no loss.
                    if record.fields.get("previous_actual_text") != text:
                        missing.append(what)
                    continue
                text = _with_unit(text, field_name, kpi.indicator.unit)
                current = getattr(kpi, field_name)
                if not current:
                    setattr(kpi, field_name, text)
                    filled[key] = record
                    done.append(what)
                elif current != text:
                    stored.append(f"{what}（保存済み「{current}」）")
    parts = []
    for items, verdict in (
        (done, "空欄だったので入れました"),
        (stored, "保存済みの値と異なるため変更しません"),
        (missing, "その年度のKPIがないため取り込みません"),
    ):
        if items:
            shown = "、".join(items[:NOTICE_EXAMPLES])
            more = f" ほか{len(items) - NOTICE_EXAMPLES}件" if len(items) > NOTICE_EXAMPLES else ""
            parts.append(f"{len(items)}件は{verdict}（{shown}{more}）")
    if parts:
        plan.notices.append(
            "ほかの年度の値（見出しに年度のある目標・実績の列）: " + "。".join(parts) + "。"
        )
    return filled


def _with_unit(text: str, name: str, unit: str) -> str:
    """A bare number gets the indicator's unit (`96.1` → `96.1%`), as the row's own texts."""
    reading = parse_target(text) if name == "target_text" else parse_value(text)
    return replace(reading, unit=unit).display() if unit and is_bare_number(reading) else text


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
        elif unit and is_bare_number(reading):
            fields[name] = replace(reading, unit=unit).display()
    return fields if ok else None
