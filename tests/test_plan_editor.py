"""A branch edits its draft plan in the app (計画の編集): measures and KPIs added,
renumbered and retired, targets set with the notation check, scoped to the branch, in
history, and closed once the plan is submitted."""

import pytest
from django.urls import reverse

from kpis.models import BranchPlan, Kpi, Measure
from tests.factories import (
    FiscalYearFactory,
    IndicatorFactory,
    KpiFactory,
    MeasureFactory,
    MonthlyValueFactory,
    PillarFactory,
    branch,
)

pytestmark = pytest.mark.django_db

YEAR = 2025
# Session, user, groups, membership, branch, year, plan, the measures with their KPIs and
# indicators, pillars …: none per measure.
QUERIES = 13


@pytest.fixture
def measure():
    return MeasureFactory(fiscal_year=FiscalYearFactory(start_year=YEAR), number_label="(1)")


def _url(name, *args):
    return reverse(f"entry:{name}", args=["11", YEAR, *args])


def _text(response) -> str:
    return response.content.decode()


def test_a_manager_adds_a_measure_in_history(client, manager_11, measure):
    client.force_login(manager_11)
    pillar = PillarFactory(number=2)

    response = client.post(
        _url("plan"), {"pillar": pillar.pk, "number_label": "(2)-1", "title": "健診の受診勧奨"}
    )

    assert response.status_code == 302
    added = Measure.objects.get(fiscal_year=measure.fiscal_year, title="健診の受診勧奨")
    assert (added.pillar, added.number_label, added.branch.code) == (pillar, "(2)-1", "11")
    record = added.history.get()
    assert record.history_user == manager_11
    assert record.history_change_reason == "画面入力: 施策を追加"
    page = _text(client.get(_url("plan")))
    assert "健診の受診勧奨" in page and "(2)-1" in page


def test_a_number_that_cannot_be_read_or_is_taken_is_refused_by_name(client, staff_11, measure):
    client.force_login(staff_11)
    pillar_id = measure.pillar_id

    def add(number):
        data = {"pillar": pillar_id, "number_label": number, "title": "x"}
        return client.post(_url("plan"), data)

    taken, unreadable = add("（１）"), add("い")

    assert "施策番号(1)" in _text(taken) and "すでにあります" in _text(taken)
    assert "施策番号「い」を読めません" in _text(unreadable)
    assert Measure.objects.filter(fiscal_year=measure.fiscal_year).count() == 1


def test_renumbering_a_measure_keeps_its_kpis_and_is_in_history(client, manager_11, measure):
    kpi = KpiFactory(measure=measure)
    client.force_login(manager_11)
    page = client.get(_url("plan_measure", measure.pk))
    stamp = page.context["stamp"]

    client.post(
        _url("plan_measure", measure.pk),
        {
            "action": "change",
            "pillar": measure.pillar_id,
            "number_label": "(3)",
            "title": measure.title,
            "group": "企画総務G",
            "stamp": stamp,
        },
    )

    measure.refresh_from_db()
    assert (measure.number_label, measure.group) == ("(3)", "企画総務G")
    assert kpi.measure_id == measure.pk and Kpi.objects.filter(pk=kpi.pk).exists()
    assert measure.history.latest().history_change_reason == "画面入力: 施策を変更"


def test_a_measure_changed_meanwhile_is_not_overwritten(client, manager_11, measure):
    client.force_login(manager_11)
    data = {
        "action": "change",
        "pillar": measure.pillar_id,
        "number_label": "(5)",
        "title": "古い画面からの変更",
        "stamp": 0,
    }
    measure.title = "ほかの人の変更"
    measure.save()  # a history row: the stamp moved

    response = client.post(_url("plan_measure", measure.pk), data)

    assert "ほかの人が先に変更しました" in _text(response)
    measure.refresh_from_db()
    assert (measure.number_label, measure.title) == ("(1)", "ほかの人の変更")


def test_a_target_the_notation_cannot_read_is_shown_and_nothing_is_added(
    client, manager_11, measure
):
    indicator = IndicatorFactory(unit="%")
    client.force_login(manager_11)

    response = client.post(
        _url("plan_measure", measure.pk),
        {"action": "add_kpi", "indicator": indicator.pk, "target_text": "だいたい9割"},
    )

    assert "目標「だいたい9割」を読めません" in _text(response)
    assert not Kpi.objects.filter(indicator=indicator).exists()


def test_a_rate_above_100_is_added_once_the_warning_is_confirmed(client, manager_11, measure):
    indicator = IndicatorFactory(unit="%")
    client.force_login(manager_11)
    data = {"action": "add_kpi", "indicator": indicator.pk, "target_text": "120%以上"}

    warned = client.post(_url("plan_measure", measure.pk), data)
    assert "率が100%を超えています" in _text(warned)
    assert not Kpi.objects.filter(indicator=indicator).exists()

    client.post(_url("plan_measure", measure.pk), {**data, "confirm_warnings": "on"})
    kpi = Kpi.objects.get(indicator=indicator)
    assert (kpi.target_text, kpi.target_value, kpi.branch.code) == ("120%以上", 120, "11")
    assert "警告を確認" in kpi.history.get().history_change_reason


def test_setting_a_target_evaluates_and_records_it(client, manager_11, measure):
    kpi = KpiFactory(measure=measure, target_text="", actual_text="97.0%")
    client.force_login(manager_11)
    stamp = client.get(_url("plan_kpi", kpi.pk)).context["stamp"]

    client.post(
        _url("plan_kpi", kpi.pk),
        {
            "action": "change",
            "measure": measure.pk,
            "target_text": "96.5%以上",
            "order": 1,
            "activity_number": 2,
            "stamp": stamp,
        },
    )

    kpi.refresh_from_db()
    assert (kpi.target_text, kpi.achieved, kpi.activity_number) == ("96.5%以上", True, 2)
    record = kpi.history.latest()
    assert record.history_user == manager_11
    assert record.history_change_reason == "画面入力: KPIを変更"


def test_retiring_a_kpi_is_refused_once_a_month_was_entered(client, manager_11, measure):
    kept = KpiFactory(measure=measure)
    MonthlyValueFactory(kpi=kept)
    retired = KpiFactory(measure=measure)
    client.force_login(manager_11)

    for kpi in (kept, retired):
        stamp = client.get(_url("plan_kpi", kpi.pk)).context["stamp"]
        response = client.post(_url("plan_kpi", kpi.pk), {"action": "retire", "stamp": stamp})

    assert Kpi.objects.filter(pk=kept.pk).exists()
    assert not Kpi.objects.filter(pk=retired.pk).exists()
    assert response.status_code == 302
    assert Kpi.history.filter(id=retired.pk, history_type="-").get().history_user == manager_11


def test_retiring_a_measure_takes_its_kpis(client, manager_11, measure):
    kpi = KpiFactory(measure=measure)
    client.force_login(manager_11)
    stamp = client.get(_url("plan_measure", measure.pk)).context["stamp"]

    client.post(_url("plan_measure", measure.pk), {"action": "retire", "stamp": stamp})

    assert not Measure.objects.filter(pk=measure.pk).exists()
    assert not Kpi.objects.filter(pk=kpi.pk).exists()
    assert Measure.history.filter(id=measure.pk, history_type="-").exists()


def test_another_branch_and_the_council_are_refused(client, staff_12, council, measure):
    for user in (staff_12, council):
        client.force_login(user)
        assert client.get(_url("plan")).status_code == 403
        response = client.post(
            _url("plan"), {"pillar": measure.pillar_id, "number_label": "(9)", "title": "x"}
        )
        assert response.status_code == 403
    assert Measure.objects.filter(fiscal_year=measure.fiscal_year).count() == 1


def test_a_submitted_plan_says_why_it_cannot_be_edited(client, manager_11, measure):
    BranchPlan.objects.create(
        branch=branch("11"), fiscal_year=measure.fiscal_year, status=BranchPlan.Status.SUBMITTED
    )
    client.force_login(manager_11)

    response = client.post(
        _url("plan"), {"pillar": measure.pillar_id, "number_label": "(9)", "title": "追加"}
    )

    assert "提出済みのため変更できません" in _text(response)
    assert not Measure.objects.filter(title="追加").exists()


@pytest.mark.parametrize("measures", [1, 4])
def test_the_plan_page_reads_a_fixed_number_of_queries(
    client, manager_11, django_assert_num_queries, measures
):
    year = FiscalYearFactory(start_year=YEAR)
    for _ in range(measures):
        KpiFactory(measure=MeasureFactory(fiscal_year=year))
    client.force_login(manager_11)
    with django_assert_num_queries(QUERIES):
        client.get(_url("plan"))
