"""Entry-deadline reminders (入力締切のお知らせ): a branch's staff and managers hear, once per
month of a fiscal year, that a month's deadline is close while some of their branch's
monthly-reported KPIs have no value for it. `manage.py send_entry_reminders` runs it daily."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from kpis.entry.services import series_for
from kpis.models import BranchPlan, FiscalYear, Kpi, MonthlyValue
from notices import events
from notices.models import Event, SentReminder

DAYS_BEFORE = 3


@dataclass(frozen=True)
class Reminder:
    branch: object
    fiscal_year: FiscalYear
    month: int
    deadline: date
    missing: list[str]  # the indicators without a value for the month


def due(today: date) -> list[Reminder]:
    """Every branch × month of an open year whose entry deadline is today or within
    DAYS_BEFORE days, with monthly KPIs still empty, unless the plan was submitted or
    published (nothing more to enter)."""
    reminders = []
    for fiscal_year in FiscalYear.objects.filter(
        status=FiscalYear.Status.OPEN, entry_deadline_day__isnull=False
    ):
        for month in fiscal_year.months:
            deadline = fiscal_year.entry_deadline(month)
            if 0 <= (deadline - today).days <= DAYS_BEFORE:
                reminders += _missing(fiscal_year, month, deadline)
    return reminders


def _missing(fiscal_year: FiscalYear, month: int, deadline: date) -> list[Reminder]:
    finished = BranchPlan.objects.filter(fiscal_year=fiscal_year).exclude(
        status=BranchPlan.Status.DRAFT
    )
    kpis = (
        Kpi.objects.filter(fiscal_year=fiscal_year, indicator__reported_monthly=True)
        .exclude(branch__in=finished.values("branch"))
        .select_related("indicator", "branch")
        .order_by("branch__order", "measure__pillar__number", "measure__sort_key", "order", "pk")
    )
    entered = MonthlyValue.objects.filter(kpi__fiscal_year=fiscal_year, month=month).filter(
        Q(value__isnull=False) | ~Q(text="")
    )
    filled = set(entered.values_list("kpi_id", "series"))
    missing = defaultdict(list)
    for kpi in kpis:
        if (kpi.pk, series_for(kpi.indicator)) not in filled:
            missing[kpi.branch].append(kpi.indicator.name)
    return [
        Reminder(branch, fiscal_year, month, deadline, names) for branch, names in missing.items()
    ]


def send(reminder: Reminder, today: date) -> list[Event]:
    """Record and mail the reminder to each member of the branch who has not had it yet."""
    branch, fiscal_year, month = reminder.branch, reminder.fiscal_year, reminder.month
    days = (reminder.deadline - today).days
    when = "今日" if days == 0 else f"あと{days}日"
    names = "、".join(reminder.missing)
    subject = f"{branch.name} {fiscal_year.era_label} {month}月分の入力締切が近づいています"
    message = (
        f"{branch.name} {fiscal_year.era_label} {month}月分の月次実績の入力締切は"
        f"{reminder.deadline.month}月{reminder.deadline.day}日（{when}）です。"
        f"\nまだ入力されていないKPIが{len(reminder.missing)}件あります: {names}"
    )
    link = reverse("entry:grid", args=[branch.code, fiscal_year.start_year])
    with transaction.atomic():
        new = []
        for user in events.branch_members(branch):
            sent = SentReminder.objects.get_or_create(
                user=user, fiscal_year=fiscal_year, month=month
            )
            if sent[1]:
                new.append(user)
        return events.record(new, Event.Kind.REMINDER, subject, message, link)


def send_due(today: date) -> list[Event]:
    return [event for reminder in due(today) for event in send(reminder, today)]
