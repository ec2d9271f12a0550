"""Domain rules of monthly entry (月次入力): who may change what and when, saving cells
without lost updates, the review workflow (提出・公表), locks, and the annual actual and
marks that managers set. Plain functions over models; views call them and stay thin.

Series by the indicator's aggregation (月次の集計):
- sum (単月の合計) → single-month values (単月); the year to date is their sum;
- cumulative (累計) → running totals (累計); the year to date is the latest total;
- point (時点) → single-month values read as "as at" figures (単月・時点); the latest counts.
"""

import copy
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from branches.models import Branch
from branches.people import display_name
from branches.roles import is_admin, membership_of
from kpis import eras, snapshots, vocabulary, writes
from kpis.models import (
    MARK_VALUES,
    BranchPlan,
    Comment,
    FiscalYear,
    Indicator,
    Kpi,
    MonthlyValue,
    PublishedSnapshot,
)
from kpis.notation import as_written, format_value, parse_value
from notices import events as notices
from notices.events import Audience

MAX_COMMENT = Comment._meta.get_field("body").max_length
# A workflow step's reason (差し戻し, 公表の取り消し …), kept whole in the plan's history.
MAX_TRANSITION_REASON = 500


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    STAFF = "staff"


class MonthRule(StrEnum):
    """Whether a user may change one month's cells (after the year-level locks)."""

    EDITABLE = "editable"
    NEEDS_REASON = "needs_reason"  # past the deadline: managers correct with a reason
    LOCKED = "locked"  # past the deadline: staff may no longer change it


class EntryLocked(PermissionDenied):
    """The branch × year is read-only for this user (closed year, submitted or published)."""


class TransitionRefused(Exception):
    """A workflow step that does not apply to the plan's current state."""


class ReasonRequired(TransitionRefused):
    """A step that needs a reason (差し戻し, 公表の取り消し …) was asked for without one."""


class InvalidInput(Exception):
    """Input a person can correct; the message says what and where, in Japanese."""


@dataclass(frozen=True)
class EntryScope:
    """One user's standing on one branch × fiscal year's entry pages."""

    user: object
    branch: Branch
    fiscal_year: FiscalYear
    plan: BranchPlan | None
    role: Role

    @property
    def plan_status(self) -> str:
        # A branch without a plan row has not submitted anything: it is a draft.
        return self.plan.status if self.plan else BranchPlan.Status.DRAFT

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_reviewer(self) -> bool:
        """Managers of the branch and head office set annual actuals and marks."""
        return self.role in (Role.ADMIN, Role.MANAGER)

    def year_lock(self) -> str | None:
        """Why this branch × year is read-only for the user, or None when it is editable."""
        return _year_lock(self.role, self.fiscal_year.status, self.plan_status)

    def month_rule(self, month: int, today: date) -> MonthRule:
        deadline = self.fiscal_year.entry_deadline(month)
        if self.is_admin or deadline is None or today <= deadline:
            return MonthRule.EDITABLE
        return MonthRule.NEEDS_REASON if self.role is Role.MANAGER else MonthRule.LOCKED


def _year_lock(role: Role, year_status: str, plan_status: str) -> str | None:
    if role is Role.ADMIN:
        return None
    if year_status == FiscalYear.Status.CLOSED:
        return "この年度は締め切られています。変更できるのは本部管理者だけです。"
    if year_status != FiscalYear.Status.OPEN:
        return "この年度はまだ入力を受け付けていません。"
    if plan_status == BranchPlan.Status.SUBMITTED:
        return (
            "提出済みのため変更できません。修正するには支部の管理者が提出を取り下げるか、"
            "本部が差し戻してください。"
        )
    if plan_status == BranchPlan.Status.PUBLISHED:
        return (
            "公表済みのため変更できません。変更が必要な場合は本部に公表の取り消しを"
            "依頼してください。"
        )
    return None


def entry_scope(user, branch: Branch, fiscal_year: FiscalYear, plan: BranchPlan | None):
    """The user's scope on this branch × year, or None when the entry pages are not theirs.

    Admins work on every branch; staff and managers on their own branch only; council
    members and everyone else on none.
    """
    if is_admin(user):
        return EntryScope(user, branch, fiscal_year, plan, Role.ADMIN)
    membership = membership_of(user)
    if membership is None or membership.branch_id != branch.pk:
        return None
    role = Role.MANAGER if membership.is_manager else Role.STAFF
    return EntryScope(user, branch, fiscal_year, plan, role)


def latest_open_year() -> FiscalYear | None:
    return FiscalYear.objects.filter(status=FiscalYear.Status.OPEN).order_by("-start_year").first()


# --- reading cells ---------------------------------------------------------------------


def series_for(indicator: Indicator) -> str:
    return vocabulary.SERIES_BY_AGGREGATION[indicator.aggregation]


def series_label(indicator: Indicator) -> str:
    labels = vocabulary.AGGREGATION_SERIES_LABELS
    return labels.get(indicator.aggregation, labels[vocabulary.Aggregation.SUM])


def cell_label(kpi: Kpi, month: int) -> str:
    """How messages name a cell: the KPI's indicator and the month."""
    return f"{kpi.indicator.name} {month}月"


def format_number(value: Decimal, unit: str) -> str:
    """`96.5%`, `1,198円`, and `△2` for minus as the branches write it."""
    # Stored decimals carry six places (96.500000); show the digits that mean something.
    text = format_value(value.normalize(), unit)
    return "△" + text[1:] if text.startswith("-") else text


@dataclass(frozen=True)
class YearToDate:
    """The figure the monthly series gives for the year so far (by the aggregation)."""

    label: str
    value: Decimal | None
    unit: str
    last_month: int | None
    written: str = ""  # a latest value (累計, 時点) as the branch wrote it

    def display(self) -> str:
        if self.value is None:
            return "—"
        return self.written or format_number(self.value, self.unit)


def year_to_date(kpi: Kpi, values: dict[int, MonthlyValue]) -> YearToDate:
    """`values` maps calendar month → the KPI's value in its series."""
    indicator = kpi.indicator
    numbers = [
        (month, values[month].value)
        for month in eras.FISCAL_MONTHS
        if month in values and values[month].value is not None
    ]
    label = {
        Indicator.Aggregation.SUM: "年度累計",
        Indicator.Aggregation.CUMULATIVE: "最新の累計",
    }.get(indicator.aggregation, "最新値")
    unit = indicator.unit or next((values[m].unit for m, _ in numbers if values[m].unit), "")
    if not numbers:
        return YearToDate(label, None, unit, None)
    last_month = numbers[-1][0]
    if indicator.aggregation == Indicator.Aggregation.SUM:
        value = sum((number for _, number in numbers), Decimal(0))
        return YearToDate(label, value, unit, last_month)
    return YearToDate(label, numbers[-1][1], unit, last_month, _written(values[last_month], unit))


def _written(value: MonthlyValue, unit: str) -> str:
    """The cell as written (`95.0%`, not 95%), with the indicator's unit if it had none."""
    reading = parse_value(value.text)
    if reading.unit:
        return as_written(value.text)
    return as_written(format_value(reading.value, unit))


def actual_text_for(fiscal_year: FiscalYear, ytd: YearToDate) -> str:
    """The annual actual as documents write it: `96.5%`, or `0.83% (R6.2現在)` when the
    series stops before March."""
    text = ytd.display()
    if ytd.last_month != 3:
        calendar_year = fiscal_year.calendar_year(ytd.last_month)
        text += f" ({eras.era_short(calendar_year)}.{ytd.last_month}現在)"
    return text


# --- saving cells ----------------------------------------------------------------------


@dataclass(frozen=True)
class CellEdit:
    """One cell as a form sent it: the text typed and the version the form was shown with."""

    kpi: Kpi
    month: int
    text: str
    seen_version: int  # 0: the cell had no value when the form was shown


@dataclass(frozen=True)
class Problem:
    kpi_id: int
    month: int
    label: str
    detail: str
    conflict: bool = False
    warning: bool = False  # saved once the person confirms it

    @property
    def message(self) -> str:
        return f"{self.label}: {self.detail}"


class SaveRefused(Exception):
    """Nothing was saved; every problem found is listed."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(p.message for p in problems))
        self.problems = problems

    @property
    def has_conflict(self) -> bool:
        return any(p.conflict for p in self.problems)

    @property
    def warnings_only(self) -> bool:
        """Only warnings: saving again with the warnings confirmed writes the values."""
        return all(p.warning for p in self.problems)


def save_cells(
    scope: EntryScope,
    edits: list[CellEdit],
    *,
    reason: str = "",
    today: date | None = None,
    confirm_warnings: bool = False,
) -> list[MonthlyValue]:
    """Save the changed cells, all or nothing; returns the saved values.

    A cell counts as changed when its text differs from the stored one. A cell whose stored
    version moved on since the form was shown is a conflict, unless the person left it as
    it was. Conflicts are detected again at write time by a conditional UPDATE on the
    version (and the unique constraint for new cells), so nobody's number is overwritten.
    Values with warnings (kpis.checks) are saved only with `confirm_warnings`.
    """
    today = today or timezone.localdate()
    reason = reason.strip()
    if lock := scope.year_lock():
        raise EntryLocked(lock)
    stored = _stored_values(edits)
    problems, changes = [], []
    for edit in edits:
        series = series_for(edit.kpi.indicator)
        row = stored.get((edit.kpi.pk, edit.month, series))
        text = edit.text.strip()
        if text == (row.text if row else ""):
            continue
        label = cell_label(edit.kpi, edit.month)
        current_version = row.version if row else 0
        if current_version != edit.seen_version:
            if text == _text_at_version(row, edit.seen_version):
                continue  # untouched in this form; keep the newer value
            problems.append(_conflict(edit, label, row, text))
            continue
        rule = scope.month_rule(edit.month, today)
        deadline = scope.fiscal_year.entry_deadline(edit.month)
        if rule is MonthRule.LOCKED:
            detail = (
                f"入力締切（{deadline.month}月{deadline.day}日）を過ぎています。"
                "修正は支部の管理者に依頼してください。"
            )
            problems.append(Problem(edit.kpi.pk, edit.month, label, detail))
        elif rule is MonthRule.NEEDS_REASON and not reason:
            detail = (
                f"入力締切（{deadline.month}月{deadline.day}日）後の修正には修正理由が必要です。"
            )
            problems.append(Problem(edit.kpi.pk, edit.month, label, detail))
        else:
            changes.append(
                writes.MonthlyEdit(edit.kpi, edit.month, series, text, edit.seen_version, row)
            )
    problems += _value_problems(changes, confirm_warnings)
    if problems:
        raise SaveRefused(problems)
    if not changes:
        return []
    source = writes.Source(writes.Channel.ENTRY, scope.user, reason, confirmed=confirm_warnings)
    with transaction.atomic():
        _recheck_lock(scope)
        try:
            return writes.save_monthly_values(changes, source)
        except writes.VersionConflict as conflict:
            raise SaveRefused(
                [
                    _conflict(edit, cell_label(edit.kpi, edit.month), _current(edit), edit.text)
                    for edit in conflict.keys
                ]
            ) from conflict


def _value_problems(changes: list, confirm_warnings: bool) -> list[Problem]:
    """The value check of the write path, as the grid shows it: errors, and warnings
    until the person confirms them."""
    cells = [writes.Cell(c.kpi.pk, c.kpi.indicator, c.month, c.series, c.text) for c in changes]
    problems = []
    for change, findings in zip(changes, writes.check_cells(cells), strict=True):
        for finding in findings:
            if finding.is_error or not confirm_warnings:
                problems.append(
                    Problem(
                        change.kpi.pk,
                        change.month,
                        cell_label(change.kpi, change.month),
                        finding.message,
                        warning=not finding.is_error,
                    )
                )
    return problems


def _stored_values(edits: list[CellEdit]) -> dict:
    kpi_ids = {edit.kpi.pk for edit in edits}
    months = {edit.month for edit in edits}
    rows = MonthlyValue.objects.filter(kpi_id__in=kpi_ids, month__in=months).select_related(
        "updated_by"
    )
    return {(row.kpi_id, row.month, row.series): row for row in rows}


def _text_at_version(row: MonthlyValue | None, version: int) -> str | None:
    if version == 0:
        return ""
    if row is None:
        return None
    record = MonthlyValue.history.filter(id=row.pk, version=version).order_by("-history_id")
    return record.values_list("text", flat=True).first()


def _conflict(edit: CellEdit, label: str, row: MonthlyValue | None, typed: str) -> Problem:
    if row is None:
        current = "値は削除されています"
    else:
        who = _person(row.updated_by)
        when = timezone.localtime(row.updated_at).strftime("%Y-%m-%d %H:%M")
        current = f"現在の値は「{row.text or '（空欄）'}」（{who}、{when}）です"
    detail = (
        f"ほかの人が先に変更しました。{current}。あなたの入力「{typed or '（空欄）'}」は"
        "保存していません。確認して入力し直してください。"
    )
    return Problem(edit.kpi.pk, edit.month, label, detail, conflict=True)


def _person(user) -> str:
    return display_name(user) or "不明"


def _recheck_lock(scope: EntryScope) -> None:
    """Read the plan and year again inside the write transaction; the plan row is locked so
    that a submission or publication cannot slip between the check and the writes."""
    plan_status = (
        BranchPlan.objects.select_for_update()
        .filter(branch=scope.branch, fiscal_year=scope.fiscal_year)
        .values_list("status", flat=True)
        .first()
    ) or BranchPlan.Status.DRAFT
    year_status = FiscalYear.objects.values_list("status", flat=True).get(pk=scope.fiscal_year.pk)
    if lock := _year_lock(scope.role, year_status, plan_status):
        raise EntryLocked(lock)


def _current(edit: writes.MonthlyEdit) -> MonthlyValue | None:
    return (
        MonthlyValue.objects.select_related("updated_by")
        .filter(kpi=edit.kpi, month=edit.month, series=edit.series)
        .first()
    )


# --- review: annual actual, marks, comments ----------------------------------------------


def history_stamp(kpi: Kpi) -> int:
    """The KPI's latest history row: changes by the UI, the admin and imports all move it,
    so a form that carries it can tell whether the KPI changed since it was shown."""
    latest = Kpi.history.filter(id=kpi.pk).order_by("-history_id")
    return latest.values_list("history_id", flat=True).first() or 0


def _kpi_for_review(scope: EntryScope, kpi: Kpi, stamp: int) -> Kpi:
    if not scope.is_reviewer:
        raise PermissionDenied("年度実績と結果を設定できるのは支部の管理者と本部管理者です。")
    if lock := scope.year_lock():
        raise EntryLocked(lock)
    locked = Kpi.objects.select_for_update().select_related("indicator", "fiscal_year")
    kpi = locked.get(pk=kpi.pk)
    if history_stamp(kpi) != stamp:
        latest = Kpi.history.filter(id=kpi.pk).select_related("history_user").latest()
        when = timezone.localtime(latest.history_date).strftime("%Y-%m-%d %H:%M")
        raise InvalidInput(
            f"{kpi.indicator.name}: ほかの人が先に変更しました（{_person(latest.history_user)}、"
            f"{when}）。現在の内容を確認してからもう一度操作してください。"
        )
    return kpi


def _save_kpi(kpi: Kpi, user, detail: str, *, mark_set=False, confirmed=False) -> Kpi:
    source = writes.Source(writes.Channel.ENTRY, user, detail, confirmed=confirmed)
    writes.save_kpis([kpi], source, marks_set=[kpi] if mark_set else ())
    return kpi


def proposed_actual(kpi: Kpi, ytd: YearToDate) -> tuple[str, list[str]]:
    """The annual actual the monthly series gives, and the warnings saving it would need
    confirmed (a rate above 100 % …): the KPI page shows both before the manager sets it."""
    if ytd.value is None:
        return "", []
    text = actual_text_for(kpi.fiscal_year, ytd)
    candidate = copy.copy(kpi)
    candidate.actual_text = text
    stored = {name: getattr(kpi, name) for name in writes.KPI_TEXTS}
    return text, [finding.message for finding in writes.check_kpi(candidate, stored)]


def set_actual_from_monthly(
    scope: EntryScope, kpi: Kpi, stamp: int, *, confirm_warnings: bool = False
) -> Kpi:
    """Set the annual actual (年度実績) from the monthly series, by the aggregation."""
    with transaction.atomic():
        kpi = _kpi_for_review(scope, kpi, stamp)
        values = {
            value.month: value
            for value in MonthlyValue.objects.filter(kpi=kpi, series=series_for(kpi.indicator))
        }
        ytd = year_to_date(kpi, values)
        if ytd.value is None:
            raise InvalidInput(f"{kpi.indicator.name}: 月次実績に数値がないため設定できません。")
        kpi.actual_text = actual_text_for(kpi.fiscal_year, ytd)
        detail = "月次実績から年度実績を設定"
        return _save_kpi(kpi, scope.user, detail, confirmed=confirm_warnings)


def set_mark(scope: EntryScope, kpi: Kpi, mark: str, reason: str, stamp: int) -> Kpi:
    """A person's mark (手動) that replaces the computed one; the reason is required."""
    reason = reason.strip()
    if mark not in MARK_VALUES:
        raise InvalidInput("結果は ◎ ○ △ × — から選んでください。")
    if not reason:
        raise InvalidInput(f"{kpi.indicator.name}: 結果を手動で設定する理由を入力してください。")
    with transaction.atomic():
        kpi = _kpi_for_review(scope, kpi, stamp)
        kpi.mark = mark
        kpi.mark_source = Kpi.MarkSource.MANUAL
        kpi.mark_reason = reason
        return _save_kpi(kpi, scope.user, reason, mark_set=True)


def return_mark_to_computed(scope: EntryScope, kpi: Kpi, stamp: int) -> Kpi:
    with transaction.atomic():
        kpi = _kpi_for_review(scope, kpi, stamp)
        kpi.mark_source = Kpi.MarkSource.COMPUTED
        kpi.mark_reason = ""
        return _save_kpi(kpi, scope.user, "結果を自動判定に戻す")


def confirm_mark(scope: EntryScope, kpi: Kpi, stamp: int) -> Kpi:
    """要再確認 → confirmed: the manual mark stays under the new 達成."""
    with transaction.atomic():
        kpi = _kpi_for_review(scope, kpi, stamp)
        if not kpi.mark_stale:
            raise InvalidInput(f"{kpi.indicator.name}: 再確認が必要な結果ではありません。")
        kpi.mark_stale = False
        return _save_kpi(kpi, scope.user, "手動の結果を再確認", mark_set=True)


def add_comment(scope: EntryScope, kpi: Kpi, month: int, body: str) -> Comment:
    """Anyone on the entry pages may comment, also on locked years: it changes no number."""
    body = body.strip()
    label = cell_label(kpi, month)
    if not body:
        raise InvalidInput(f"{label}: コメントを入力してください。")
    if len(body) > MAX_COMMENT:
        raise InvalidInput(f"{label}: コメントは{MAX_COMMENT}文字以内で入力してください。")
    return Comment.objects.create(kpi=kpi, month=month, body=body, author=scope.user)


# --- workflow and locks ------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    role: Role
    sources: tuple[str, ...]
    # None: the step leaves the status as it is (the plan document's own publication).
    target: str | None
    # The plan document (事業計画（案）) steps need it unpublished (False) or published (True).
    plan_published: bool | None = None
    # The document whose publication the step stores as a snapshot for readers.
    snapshot: str = ""
    needs_reason: bool = False
    primary: bool = False
    # Who is told by mail and on their home page (notices), if anyone.
    notify: Audience | None = None
    # What the branch's pages say at the top, with the reason, until the next step.
    notice: str = ""

    def applies(self, plan: BranchPlan | None) -> bool:
        status = plan.status if plan else BranchPlan.Status.DRAFT
        if status not in self.sources:
            return False
        published = bool(plan and plan.plan_published_at)
        return self.plan_published is None or self.plan_published == published


S = BranchPlan.Status
RESULTS, PLAN = PublishedSnapshot.Document.RESULTS, PublishedSnapshot.Document.PLAN
TRANSITIONS = {
    t.name: t
    for t in [
        Transition(
            "submit",
            "提出",
            Role.MANAGER,
            (S.DRAFT,),
            S.SUBMITTED,
            primary=True,
            notify=Audience.ADMINS,
        ),
        Transition("withdraw", "提出の取り下げ", Role.MANAGER, (S.SUBMITTED,), S.DRAFT),
        Transition(
            "return",
            "差し戻し",
            Role.ADMIN,
            (S.SUBMITTED,),
            S.DRAFT,
            needs_reason=True,
            notify=Audience.MANAGERS,
            notice="本部から差し戻されました",
        ),
        Transition(
            "publish",
            "公表",
            Role.ADMIN,
            (S.SUBMITTED,),
            S.PUBLISHED,
            snapshot=RESULTS,
            primary=True,
            notify=Audience.MANAGERS,
        ),
        Transition(
            "republish", "再公表", Role.ADMIN, (S.PUBLISHED,), S.PUBLISHED, snapshot=RESULTS
        ),
        Transition(
            "reopen",
            "公表の取り消し",
            Role.ADMIN,
            (S.PUBLISHED,),
            S.DRAFT,
            needs_reason=True,
            notify=Audience.MANAGERS,
            notice="本部が公表を取り消しました",
        ),
        # The plan goes to the council before the year starts, whatever the results' state.
        Transition(
            "publish_plan",
            "事業計画の公表",
            Role.ADMIN,
            tuple(S.values),
            None,
            plan_published=False,
            snapshot=PLAN,
        ),
        Transition(
            "withdraw_plan",
            "事業計画の公表の取り消し",
            Role.ADMIN,
            tuple(S.values),
            None,
            plan_published=True,
            needs_reason=True,
        ),
    ]
}


def available_transitions(scope: EntryScope) -> list[Transition]:
    """The workflow steps the user may take now (buttons on the grid)."""
    return [
        t
        for t in TRANSITIONS.values()
        if t.role is scope.role
        and t.applies(scope.plan)
        and (scope.is_admin or scope.fiscal_year.is_open)
    ]


def transition(scope: EntryScope, name: str, *, reason: str = "") -> BranchPlan:
    """Move the branch's plan one step: draft → submitted (manager) → published (admin);
    managers withdraw a submission, admins return it, republish or reopen a published year,
    and publish the plan document (事業計画) or withdraw it. Every publication stores what
    readers see as a snapshot (kpis.snapshots).

    A step that needs a reason is refused without one, whoever asks (entry pages, admin,
    commands). The step, its reason, when and by whom are kept on the plan until the next
    step; the people the step concerns get an event, mailed after the commit (notices)."""
    step = TRANSITIONS[name]
    reason = reason.strip()
    if len(reason) > MAX_TRANSITION_REASON:
        raise TransitionRefused(
            f"理由は{MAX_TRANSITION_REASON}文字以内で入力してください"
            f"（入力は{len(reason)}文字です）。{step.label}はしていません。"
        )
    if step.role is not scope.role:
        who = "支部の管理者" if step.role is Role.MANAGER else "本部管理者"
        raise PermissionDenied(f"{step.label}ができるのは{who}です。")
    if not scope.is_admin and not scope.fiscal_year.is_open:
        raise EntryLocked(_year_lock(scope.role, scope.fiscal_year.status, scope.plan_status))
    if step.needs_reason and not reason:
        raise ReasonRequired(
            f"{step.label}には理由が必要です。理由を入力してください。{step.label}はしていません。"
        )
    with transaction.atomic():
        plan = BranchPlan.objects.select_for_update().filter(
            branch=scope.branch, fiscal_year=scope.fiscal_year
        ).first() or BranchPlan(branch=scope.branch, fiscal_year=scope.fiscal_year)
        if not step.applies(plan):
            raise TransitionRefused(_refusal(scope, step, plan))
        if name in ("submit", "publish"):
            _refuse_stale_marks(scope, step)
        now = timezone.now()
        if name == "reopen" and snapshots.latest(plan, RESULTS) is None:
            # Published before snapshots were kept: what it showed is kept for readers now.
            snapshots.capture(plan, RESULTS, plan.published_by, plan.published_at)
        if step.target is not None:
            plan.status = step.target
        if name == "submit":
            plan.submitted_by, plan.submitted_at = scope.user, now
        elif name in ("publish", "republish"):
            plan.published_by, plan.published_at = scope.user, now
            plan.reopened_at = None
        elif name in ("withdraw", "return"):
            plan.submitted_by, plan.submitted_at = None, None
        elif name == "reopen":
            plan.published_by, plan.published_at = None, None
            plan.reopened_at = now
        elif name == "publish_plan":
            plan.plan_published_by, plan.plan_published_at = scope.user, now
        elif name == "withdraw_plan":
            plan.plan_published_by, plan.plan_published_at = None, None
        plan.last_step, plan.last_step_reason = name, reason
        plan.last_step_at, plan.last_step_by = now, scope.user
        plan._history_user = scope.user
        plan._change_reason = f"{step.label}: {reason}" if reason else step.label
        try:
            with transaction.atomic():
                plan.save()
        except IntegrityError as clash:
            # Someone created the branch's plan row at the same moment.
            raise TransitionRefused("同時に操作されました。もう一度操作してください。") from clash
        if name in ("publish", "republish"):
            writes.acknowledge_publication(
                plan, writes.Source(writes.Channel.ENTRY, scope.user, step.label)
            )
        if step.snapshot:
            snapshots.capture(plan, step.snapshot, scope.user, now)
        if step.notify:
            notices.workflow_step(plan, name, step.notify, scope.user, reason)
        return plan


@dataclass(frozen=True)
class StepNotice:
    """The last return or reopening as the branch's pages show it."""

    text: str
    reason: str
    at: datetime
    by: object  # the user, None once the account is deleted


def step_notice(plan: BranchPlan | None) -> StepNotice | None:
    """What the branch is told at the top of its pages until the next step replaces it."""
    step = TRANSITIONS.get(plan.last_step) if plan else None
    if step is None or not step.notice:
        return None
    return StepNotice(step.notice, plan.last_step_reason, plan.last_step_at, plan.last_step_by)


def _refusal(scope: EntryScope, step: Transition, plan: BranchPlan) -> str:
    if step.plan_published is True:
        return f"{scope.branch.name}の事業計画は公表されていないため、{step.label}はできません。"
    if step.plan_published is False and plan.plan_published_at:
        return f"{scope.branch.name}の事業計画はすでに公表されています。"
    return (
        f"{scope.branch.name}は現在「{plan.get_status_display()}」のため、"
        f"{step.label}はできません。"
    )


def _refuse_stale_marks(scope: EntryScope, step: Transition) -> None:
    stale = list(
        Kpi.objects.filter(
            branch=scope.branch, fiscal_year=scope.fiscal_year, mark_stale=True
        ).values_list("indicator__name", flat=True)
    )
    if stale:
        raise TransitionRefused(
            f"要再確認の結果が{len(stale)}件あります（{'、'.join(stale)}）。"
            f"KPIのページで確認するか自動判定に戻してから{step.label}してください。"
        )


def close_fiscal_year(fiscal_year: FiscalYear) -> None:
    """締切: nobody but admins changes the year's figures any more."""
    fiscal_year.status = FiscalYear.Status.CLOSED
    fiscal_year.save(update_fields=["status"])


def reopen_fiscal_year(fiscal_year: FiscalYear) -> None:
    fiscal_year.status = FiscalYear.Status.OPEN
    fiscal_year.save(update_fields=["status"])
