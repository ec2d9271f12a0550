"""A file that changes a submitted or published plan says so in red and asks for an explicit
confirmation (the confirm view refuses without it)."""

import pytest
from django.urls import reverse

from imports import pipeline
from kpis.models import BranchPlan
from tests.factories_imports import MONTHLY_HEADER, kpi_row, load, monthly_row, xlsx

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "status, listed",
    [
        (BranchPlan.Status.PUBLISHED, ["埼玉支部 令和5年度（公表済）"]),
        (BranchPlan.Status.SUBMITTED, ["埼玉支部 令和5年度（提出済）"]),
        (BranchPlan.Status.DRAFT, []),
    ],
)
def test_changing_a_kpi_of_a_submitted_or_published_plan_is_listed(admin, status, listed):
    load(xlsx([kpi_row()]))
    BranchPlan.objects.update(status=status)

    batch = pipeline.preview(xlsx([kpi_row(**{"実績": "97%"})]), "again.xlsx", admin)

    assert batch.protected_plans == listed


def test_the_preview_warns_in_red_and_asks_for_the_confirmation(client, admin):
    load(xlsx([kpi_row()]))
    BranchPlan.objects.update(status=BranchPlan.Status.PUBLISHED)
    batch = pipeline.preview(xlsx([kpi_row(**{"実績": "97%"})]), "again.xlsx", admin)
    client.force_login(admin)

    page = client.get(reverse("imports:preview", args=[batch.pk])).content.decode()

    assert 'class="alert alert-danger"' in page and "提出済み・公表済みの計画を変更します" in page
    assert "<li>埼玉支部 令和5年度（公表済）</li>" in page
    assert 'name="confirm_protected" value="1" required' in page
    assert 'name="confirm_warnings"' not in page  # no warnings in this file


def test_unchanged_rows_and_monthly_values_do_not_count(admin):
    load(xlsx([kpi_row()]))
    BranchPlan.objects.update(status=BranchPlan.Status.PUBLISHED)

    same = pipeline.preview(xlsx([kpi_row()]), "same.xlsx", admin)
    monthly = pipeline.preview(
        xlsx([monthly_row(months=["95%"])], MONTHLY_HEADER, title="月次"), "m.xlsx", admin
    )

    assert same.protected_plans == [] and monthly.protected_plans == []
    assert monthly.diff_total == 1
