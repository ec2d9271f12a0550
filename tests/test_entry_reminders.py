"""`send_entry_reminders` (run daily) tells a branch's staff and managers, once per month,
that the month's entry deadline is three days away or fewer while monthly-reported KPIs are
still empty for it; yearly indicators, finished plans and other years never count."""

from io import StringIO

import pytest
from django.core import mail as outbox
from django.core.management import CommandError, call_command

from kpis.models import BranchPlan
from notices.models import Event, SentReminder
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db

# 4月分 is due on 10 May 2023 (deadline day 10 of the following month).
DUE_IN_3_DAYS = "2023-05-07"


@pytest.fixture
def year(db):
    return fe.fiscal_year(2023, entry_deadline_day=10)


@pytest.fixture
def people(year, staff_11, manager_11, staff_12):
    for user in (staff_11, manager_11, staff_12):
        user.email = f"{user.username}@example.jp"
        user.save()
    return staff_11, manager_11, staff_12


@pytest.fixture
def kpis(people):
    """埼玉: a monthly rate with 4月 empty and a yearly indicator (never monthly); 千葉: a
    monthly rate with 4月 entered."""
    rate = fe.kpi(code="11", name="特定健診実施率")
    yearly = fe.kpi(code="11", name="職員満足度", unit="点")
    yearly.indicator.reported_monthly = False
    yearly.indicator.save()
    chiba = fe.kpi(code="12", name="ジェネリック医薬品使用割合")
    fe.value(chiba, 4, "80.1%")
    return rate, yearly, chiba


def remind(date, capture):
    with capture(execute=True):
        call_command("send_entry_reminders", "--date", date, stdout=StringIO())


def addressees():
    return sorted(address for message in outbox.outbox for address in message.to)


def test_staff_and_managers_hear_of_a_deadline_three_days_away_with_months_empty(
    kpis, django_capture_on_commit_callbacks
):
    remind(DUE_IN_3_DAYS, django_capture_on_commit_callbacks)

    assert addressees() == ["manager11@example.jp", "staff11@example.jp"]
    message = outbox.outbox[0]
    assert message.subject == "[支部KPI管理] 埼玉支部 令和5年度 4月分の入力締切が近づいています"
    assert "4月分の月次実績の入力締切は5月10日（あと3日）です。" in message.body
    assert "まだ入力されていないKPIが1件あります: 特定健診実施率" in message.body
    assert "職員満足度" not in message.body  # a yearly indicator is never a missing month
    assert "http://localhost:8000/entry/11/2023/" in message.body


def test_each_reminder_is_sent_once(kpis, django_capture_on_commit_callbacks):
    for date in (DUE_IN_3_DAYS, "2023-05-08", "2023-05-10"):
        remind(date, django_capture_on_commit_callbacks)

    assert addressees() == ["manager11@example.jp", "staff11@example.jp"]
    assert SentReminder.objects.count() == 2
    assert Event.objects.filter(kind="reminder").count() == 2


@pytest.mark.parametrize("date", ["2023-05-06", "2023-05-11", "2023-04-07"])
def test_no_reminder_before_three_days_ahead_or_after_the_deadline(
    kpis, django_capture_on_commit_callbacks, date
):
    remind(date, django_capture_on_commit_callbacks)

    assert outbox.outbox == []
    assert not SentReminder.objects.exists()


def test_the_deadline_day_itself_still_reminds(kpis, django_capture_on_commit_callbacks):
    remind("2023-05-10", django_capture_on_commit_callbacks)

    assert "5月10日（今日）" in outbox.outbox[0].body


def test_no_reminder_when_every_monthly_kpi_has_its_month(kpis, django_capture_on_commit_callbacks):
    rate, _, _ = kpis
    fe.value(rate, 4, "61.5%")

    remind(DUE_IN_3_DAYS, django_capture_on_commit_callbacks)

    assert outbox.outbox == []


def test_only_yearly_indicators_empty_is_no_reminder(people, django_capture_on_commit_callbacks):
    yearly = fe.kpi(code="11", name="職員満足度", unit="点")
    yearly.indicator.reported_monthly = False
    yearly.indicator.save()

    remind(DUE_IN_3_DAYS, django_capture_on_commit_callbacks)

    assert outbox.outbox == []


@pytest.mark.parametrize("status", ["submitted", "published"])
def test_a_submitted_or_published_plan_is_not_reminded(
    kpis, year, django_capture_on_commit_callbacks, status
):
    BranchPlan.objects.create(branch=kpis[0].branch, fiscal_year=year, status=status)

    remind(DUE_IN_3_DAYS, django_capture_on_commit_callbacks)

    assert outbox.outbox == []


@pytest.mark.parametrize("status", ["closed", "planning"])
def test_only_open_years_are_reminded(kpis, year, django_capture_on_commit_callbacks, status):
    year.status = status
    year.save()

    remind(DUE_IN_3_DAYS, django_capture_on_commit_callbacks)

    assert outbox.outbox == []


def test_a_date_that_is_not_a_date_is_refused(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_entry_reminders", "--date", "2023/05/07")
