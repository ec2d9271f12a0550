"""Who may read which branch × fiscal year. Every reading view goes through here.

- admins (head office) read everything;
- branch staff and managers read their own branch in any state, other branches once published;
- council members read published plans only;
- anonymous visitors read nothing, unless PUBLIC_ACHIEVEMENT_PAGES makes published plans public.

A branch's year is two documents. Its results (実施状況, status PUBLISHED) stay readable on
the branch page once published, also while reopened (公表の取り消し): readers are shown the
last published snapshot. Its plan (事業計画, plan_published_at) is readable on the plan page
once published, or once the results are. The other pages (KPI table, home, comparison) list
rows of years whose results are published now (`visible`), from the working tables.
"""

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from branches.models import Branch
from branches.roles import is_admin, membership_of
from kpis.models import BranchPlan, FiscalYear, PublishedSnapshot


def may_read_published(user) -> bool:
    return user.is_authenticated or settings.PUBLIC_ACHIEVEMENT_PAGES


def _published(branch_field: str, year_field: str):
    return Exists(
        BranchPlan.objects.filter(
            branch=OuterRef(branch_field),
            fiscal_year=OuterRef(year_field),
            status=BranchPlan.Status.PUBLISHED,
        )
    )


def visible(user, queryset: QuerySet, branch_field="branch", year_field="fiscal_year"):
    """Restrict a queryset of rows that have a branch and a fiscal year to what `user` reads."""
    if is_admin(user):
        return queryset
    if not may_read_published(user):
        return queryset.none()
    rule = Q(_published(branch_field, year_field))
    membership = membership_of(user)
    if membership:
        rule |= Q(**{f"{branch_field}_id": membership.branch_id})
    return queryset.filter(rule)


def reads_working_version(user, branch: Branch) -> bool:
    """Admins and the branch's own members read the working version in any state; other
    readers read what was published."""
    if is_admin(user):
        return True
    membership = membership_of(user)
    return bool(membership and membership.branch_id == branch.pk)


def results_published(plan: BranchPlan | None) -> bool:
    """The year's results were published, and are now or are being checked again (reopened
    after publication; its last snapshot is what readers see)."""
    return bool(plan and (plan.is_published or plan.reopened_at is not None))


def plan_published(plan: BranchPlan | None) -> bool:
    """The plan document reached the council: published on its own, or with the results."""
    return bool(plan and plan.plan_published_at is not None) or results_published(plan)


def can_read(
    user,
    branch: Branch,
    fiscal_year: FiscalYear,
    plan: BranchPlan | None,
    document: str = PublishedSnapshot.Document.RESULTS,
) -> bool:
    if reads_working_version(user, branch):
        return True
    if document == PublishedSnapshot.Document.PLAN:
        published = plan_published(plan)
    else:
        published = results_published(plan)
    return published and may_read_published(user)


def branch_year_for_user(
    user, code: str, start_year: int, document: str = PublishedSnapshot.Document.RESULTS
):
    """The branch, fiscal year and plan named in a URL, or 404 when unknown or when the
    reader may not read the document (results or plan) of that year.

    Unreadable and unknown look the same (404), so nothing leaks about unpublished years.
    """
    branch = get_object_or_404(Branch, code=code)
    fiscal_year = get_object_or_404(FiscalYear, start_year=start_year)
    plan = BranchPlan.objects.filter(branch=branch, fiscal_year=fiscal_year).first()
    if not can_read(user, branch, fiscal_year, plan, document):
        raise Http404("この支部・年度は閲覧できません。")
    if plan is not None:
        # Known already: snapshots and pages read them from the plan without a query.
        plan.branch, plan.fiscal_year = branch, fiscal_year
    return branch, fiscal_year, plan
