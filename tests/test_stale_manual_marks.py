"""A person's mark (手動) is theirs to keep or change: when 達成 or the rule's suggestion
moves under it — the KPI's own actual, or the year before's — the mark is flagged 要再確認
for the branch manager and head office, the plan cannot be submitted until it is
confirmed or reset, and an import that writes the actual and the mark together is fresh."""

import pytest
from django.urls import reverse

from kpis.entry import services
from kpis.models import BranchPlan, Kpi
from tests import factories_admin as fa
from tests import factories_entry as fe
from tests.factories_imports import kpi_row, load, xlsx

pytestmark = pytest.mark.django_db

NAME = "現金給付等の申請に係る郵送化率"


@pytest.fixture
def kpi(db):
    kpi = fe.kpi(year=2023, name=NAME, target_text="96.5%以上", actual_text="95.0%")
    fe.fiscal_year(2023).plans.create(branch=kpi.branch)
    return kpi


def set_mark(client, kpi, mark="○", reason="年度末に申請が集中したため実質は計画通り"):
    kpi.refresh_from_db()
    url = reverse("entry:mark", args=["11", 2023, kpi.pk])
    return client.post(url, {"mark": mark, "reason": reason, "stamp": services.history_stamp(kpi)})


def page(client, kpi):
    return client.get(reverse("kpis:branch_year", args=["11", 2023])).content.decode()


def test_a_changed_actual_makes_the_manual_mark_stale(client, admin, manager_11, kpi):
    client.force_login(manager_11)
    set_mark(client, kpi, "○")
    kpi.refresh_from_db()
    assert (kpi.mark, kpi.achieved, kpi.mark_stale) == ("○", False, False)

    client.force_login(admin)
    client.post(fa.kpi_url(kpi), fa.kpi_change(kpi, actual_text="97.0%"))

    kpi.refresh_from_db()
    assert (kpi.mark, kpi.achieved, kpi.mark_stale) == ("○", True, True)
    client.force_login(manager_11)
    assert "要再確認" in page(client, kpi)


def test_council_members_do_not_see_the_flag(client, admin, council, manager_11, kpi):
    client.force_login(manager_11)
    set_mark(client, kpi, "○")
    Kpi.objects.filter(pk=kpi.pk).update(mark_stale=True)
    BranchPlan.objects.update(status=BranchPlan.Status.PUBLISHED)

    client.force_login(council)
    assert "要再確認" not in page(client, kpi)


def test_a_plan_with_a_stale_mark_cannot_be_submitted_until_confirmed(
    client, admin, manager_11, kpi
):
    client.force_login(manager_11)
    set_mark(client, kpi, "○")
    client.force_login(admin)
    client.post(fa.kpi_url(kpi), fa.kpi_change(Kpi.objects.get(), actual_text="97.0%"))

    client.force_login(manager_11)
    submit = reverse("entry:transition", args=["11", 2023, "submit"])
    response = client.post(submit, follow=True)
    assert "要再確認の結果が1件あります" in response.content.decode()
    assert BranchPlan.objects.get().status == BranchPlan.Status.DRAFT

    kpi.refresh_from_db()
    mark_url = reverse("entry:mark", args=["11", 2023, kpi.pk])
    client.post(mark_url, {"confirm": "1", "stamp": services.history_stamp(kpi)})
    kpi.refresh_from_db()
    assert (kpi.mark, kpi.mark_stale) == ("○", False)
    assert kpi.history.latest().history_change_reason == "画面入力: 手動の結果を再確認"

    client.post(submit)
    assert BranchPlan.objects.get().status == BranchPlan.Status.SUBMITTED


def test_resetting_to_the_rule_clears_the_flag(client, admin, manager_11, kpi):
    client.force_login(manager_11)
    set_mark(client, kpi, "○")
    Kpi.objects.filter(pk=kpi.pk).update(mark_stale=True)
    kpi.refresh_from_db()

    url = reverse("entry:mark", args=["11", 2023, kpi.pk])
    client.post(url, {"computed": "1", "stamp": services.history_stamp(kpi)})

    kpi.refresh_from_db()
    assert (kpi.mark, kpi.mark_source, kpi.mark_stale) == ("△", "computed", False)


def test_the_previous_years_actual_can_make_a_mark_stale(client, admin, manager_11, kpi):
    later = fe.next_year(kpi, target_text="対前年度以上", actual_text="96.0%")
    later.mark, later.mark_source, later.mark_reason = "◎", "manual", "大幅に改善"
    later.save()
    assert later.achieved is True

    client.force_login(admin)
    client.post(fa.kpi_url(kpi), fa.kpi_change(kpi, actual_text="97.0%"))

    later.refresh_from_db()
    assert (later.mark, later.achieved, later.mark_stale) == ("◎", False, True)


def test_an_import_writing_actual_and_mark_together_sets_a_fresh_mark(client, manager_11, kpi):
    client.force_login(manager_11)
    set_mark(client, kpi, "○")

    load(xlsx([kpi_row(**{"KPI指標": NAME, "実績": "97.0%", "結果": "◎"})]))

    kpi.refresh_from_db()
    assert (kpi.mark, kpi.mark_source, kpi.achieved, kpi.mark_stale) == ("◎", "manual", True, False)


def test_a_change_in_a_published_plan_is_flagged_for_admins_until_republished(
    client, admin, council, kpi
):
    BranchPlan.objects.update(status=BranchPlan.Status.PUBLISHED)
    client.force_login(admin)
    client.post(fa.kpi_url(kpi), fa.kpi_change(kpi, actual_text="97.0%"))

    kpi.refresh_from_db()
    assert kpi.changed_after_publication
    assert "公表後に変更あり" in page(client, kpi)
    client.force_login(council)
    assert "公表後に変更あり" not in page(client, kpi)

    client.force_login(admin)
    plan = BranchPlan.objects.get()
    client.post(
        "/admin/kpis/branchplan/",
        {"action": "republish_plans", "_selected_action": [plan.pk]},
    )
    kpi.refresh_from_db()
    assert not kpi.changed_after_publication
