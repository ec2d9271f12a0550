"""Head office closes and reopens fiscal years and publishes or reopens plans from the
Django admin, through the same rules as the entry pages."""

import pytest

from kpis.models import BranchPlan, FiscalYear
from tests import factories
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db


def test_admin_closes_and_reopens_a_fiscal_year(client, admin):
    year = fe.fiscal_year(2023)
    client.force_login(admin)
    url = "/admin/kpis/fiscalyear/"
    client.post(url, {"action": "close_years", "_selected_action": [year.pk]})
    assert FiscalYear.objects.get(pk=year.pk).status == "closed"
    client.post(url, {"action": "reopen_years", "_selected_action": [year.pk]})
    assert FiscalYear.objects.get(pk=year.pk).status == "open"


def test_admin_publishes_submitted_plans_and_skips_others(client, admin, manager_11):
    year = fe.fiscal_year(2023)
    submitted = BranchPlan.objects.create(
        branch=factories.branch("11"), fiscal_year=year, status="submitted"
    )
    draft = BranchPlan.objects.create(branch=factories.branch("12"), fiscal_year=year)
    client.force_login(admin)
    url = "/admin/kpis/branchplan/"
    response = client.post(
        url, {"action": "publish_plans", "_selected_action": [submitted.pk, draft.pk]}, follow=True
    )
    html = response.content.decode()
    assert "1件の公表をしました。" in html
    assert "千葉支部は現在「作成中」のため、公表はできません。" in html
    submitted.refresh_from_db()
    assert (submitted.status, submitted.published_by) == ("published", admin)
    assert BranchPlan.objects.get(pk=draft.pk).status == "draft"

    reopen = {"action": "reopen_plans", "_selected_action": [submitted.pk], "apply": "yes"}
    client.post(url, {**reopen, "reason": "実績の訂正のため"})
    assert BranchPlan.objects.get(pk=submitted.pk).status == "draft"


def test_deadline_day_is_set_in_the_admin(client, admin):
    year = fe.fiscal_year(2023)
    client.force_login(admin)
    page = client.get(f"/admin/kpis/fiscalyear/{year.pk}/change/").content.decode()
    assert "月次入力の締切日（翌月の日）" in page
