"""Editing a draft plan in the app (計画の編集): after the yearly rollover a branch adds,
renumbers and retires its measures and KPIs and sets its targets, with the same rules as
every other write — the year and plan locks of the entry pages, the notation check of the
targets (errors refuse, warnings are confirmed), versions and history through kpis.writes.

Plain functions over models; they raise InvalidInput (a message in Japanese that names the
measure or KPI), EntryLocked (the plan is no longer a draft) or writes.Refused.
"""

from django.db import transaction
from django.db.models import Max

from kpis import writes
from kpis.entry.services import EntryLocked, EntryScope, InvalidInput, history_stamp
from kpis.models import Indicator, Kpi, Measure, MonthlyValue, Pillar
from kpis.numbering import measure_sort_key

TITLE_LENGTH = Measure._meta.get_field("title").max_length
GROUP_LENGTH = Measure._meta.get_field("group").max_length
LABEL_LENGTH = Measure._meta.get_field("number_label").max_length
MOVED = "ほかの人が先に変更しました。ページを開き直して、現在の内容を確かめてから操作してください。"


def _editable(scope: EntryScope) -> None:
    if lock := scope.year_lock():
        raise EntryLocked(lock)


def _source(scope: EntryScope, detail: str, *, confirmed: bool = False) -> writes.Source:
    return writes.Source(writes.Channel.ENTRY, scope.user, detail, confirmed=confirmed)


def _number_label(scope: EntryScope, pillar: Pillar, text: str, *, measure=None) -> str:
    label = text.strip()
    if not label:
        raise InvalidInput("施策番号を入力してください（例: (1)、(1)-1、1-2）。")
    key = measure_sort_key(label)
    if key is None or len(label) > LABEL_LENGTH:
        raise InvalidInput(
            f"施策番号「{label}」を読めません。(1)、(1)-1、1-2、(1)① のように書いてください。"
        )
    clash = (
        Measure.objects.filter(
            branch=scope.branch, fiscal_year=scope.fiscal_year, pillar=pillar, sort_key=key
        )
        .exclude(pk=measure.pk if measure else None)
        .first()
    )
    if clash:
        raise InvalidInput(
            f"{pillar.number}. {pillar.name}には施策番号{clash.number_label}"
            f"（{clash.title}）がすでにあります。別の番号にしてください。"
        )
    return label


def _title(text: str) -> str:
    title = text.strip()
    if not title:
        raise InvalidInput("施策名を入力してください。")
    if len(title) > TITLE_LENGTH:
        raise InvalidInput(f"施策名は{TITLE_LENGTH}文字以内で入力してください。")
    return title


def _group(text: str) -> str:
    group = text.strip()
    if len(group) > GROUP_LENGTH:
        raise InvalidInput(f"担当グループは{GROUP_LENGTH}文字以内で入力してください。")
    return group


def _check_stamp(measure: Measure, stamp: int) -> None:
    if writes.report_stamps(Measure, [measure.pk])[measure.pk] != stamp:
        raise InvalidInput(f"施策{measure.number_label}: {MOVED}")


def measure_stamp(measure: Measure) -> int:
    """What a form about the measure carries, to find out whether it changed meanwhile."""
    return writes.report_stamps(Measure, [measure.pk])[measure.pk]


# --- measures ------------------------------------------------------------------------------


def add_measure(
    scope: EntryScope, *, pillar: Pillar, number_label: str, title: str, group: str = ""
) -> Measure:
    _editable(scope)
    with transaction.atomic():
        measure = Measure(
            branch=scope.branch,
            fiscal_year=scope.fiscal_year,
            pillar=pillar,
            number_label=_number_label(scope, pillar, number_label),
            title=_title(title),
            group=_group(group),
        )
        writes.save_measures([measure], _source(scope, "施策を追加"))
    return measure


def change_measure(
    scope: EntryScope,
    measure: Measure,
    *,
    pillar: Pillar,
    number_label: str,
    title: str,
    group: str,
    stamp: int,
) -> Measure:
    """Renumber, rename, move to another pillar or another group."""
    _editable(scope)
    with transaction.atomic():
        measure = Measure.objects.select_for_update().get(pk=measure.pk)
        _check_stamp(measure, stamp)
        if pillar.pk != measure.pillar_id:
            measure.pillar_label = ""  # the branch's wording was of the old pillar
        measure.pillar = pillar
        measure.number_label = _number_label(scope, pillar, number_label, measure=measure)
        measure.title = _title(title)
        measure.group = _group(group)
        writes.save_measures([measure], _source(scope, "施策を変更"))
    return measure


def retire_measure(scope: EntryScope, measure: Measure, stamp: int) -> None:
    """Take a measure out of the plan with its activities and KPIs — refused once a month
    was entered under it, which would be lost."""
    _editable(scope)
    with transaction.atomic():
        measure = Measure.objects.select_for_update().get(pk=measure.pk)
        _check_stamp(measure, stamp)
        if MonthlyValue.objects.filter(kpi__measure=measure).exists():
            raise InvalidInput(
                f"施策{measure.number_label}（{measure.title}）のKPIには月次実績が入力されて"
                "いるため、施策を廃止できません。先にKPIの月次実績を消してください。"
            )
        writes.delete_measures([measure], _source(scope, f"施策{measure.number_label}を廃止"))


# --- KPIs ----------------------------------------------------------------------------------


def add_kpi(
    scope: EntryScope,
    measure: Measure,
    *,
    indicator: Indicator,
    description: str,
    target_text: str,
    activity_number: int | None = None,
    confirm_warnings: bool = False,
) -> Kpi:
    _editable(scope)
    with transaction.atomic():
        clash = (
            Kpi.objects.filter(
                branch=scope.branch, fiscal_year=scope.fiscal_year, indicator=indicator
            )
            .select_related("measure")
            .first()
        )
        if clash:
            raise InvalidInput(
                f"指標「{indicator.name}」はすでに施策{clash.measure.number_label}の"
                "KPIです。1つの年度に同じ指標のKPIは1つです。"
            )
        last = Kpi.objects.filter(measure=measure).aggregate(last=Max("order"))["last"]
        kpi = Kpi(
            branch=scope.branch,
            fiscal_year=scope.fiscal_year,
            measure=measure,
            indicator=indicator,
            description=description.strip(),
            target_text=target_text.strip(),
            activity_number=activity_number,
            order=(last or 0) + 1,
        )
        source = _source(scope, "KPIを追加", confirmed=confirm_warnings)
        writes.save_kpis([kpi], source)
    return kpi


def change_kpi(
    scope: EntryScope,
    kpi: Kpi,
    *,
    measure: Measure,
    description: str,
    target_text: str,
    activity_number: int | None,
    order: int,
    stamp: int,
    confirm_warnings: bool = False,
) -> Kpi:
    """Set the target (目標), the KPI's wording, its number in the report and its place."""
    _editable(scope)
    with transaction.atomic():
        kpi = (
            Kpi.objects.select_for_update()
            .select_related("indicator", "fiscal_year")
            .get(pk=kpi.pk)
        )
        if history_stamp(kpi) != stamp:
            raise InvalidInput(f"{kpi.indicator.name}: {MOVED}")
        kpi.measure = measure
        kpi.description = description.strip()
        kpi.target_text = target_text.strip()
        kpi.activity_number = activity_number
        kpi.order = order
        source = _source(scope, "KPIを変更", confirmed=confirm_warnings)
        writes.save_kpis([kpi], source)
    return kpi


def retire_kpi(scope: EntryScope, kpi: Kpi, stamp: int) -> None:
    _editable(scope)
    with transaction.atomic():
        kpi = Kpi.objects.select_for_update().select_related("indicator").get(pk=kpi.pk)
        if history_stamp(kpi) != stamp:
            raise InvalidInput(f"{kpi.indicator.name}: {MOVED}")
        if kpi.monthly_values.exists():
            raise InvalidInput(
                f"{kpi.indicator.name}: 月次実績が入力されているため廃止できません。"
                "先に月次実績を消してください。"
            )
        writes.delete_kpis([kpi], _source(scope, f"KPI「{kpi.indicator.name}」を廃止"))
