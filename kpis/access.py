"""Who may read which branch × fiscal year. Every reading view goes through here.

- admins (head office) read everything;
- branch staff and managers read their own branch in any state, other branches once published;
- council members read published plans only;
- anonymous visitors read nothing, unless PUBLIC_ACHIEVEMENT_PAGES makes published plans public.
"""

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from branches.models import Branch
from branches.roles import is_admin, membership_of
from kpis.models import BranchPlan, FiscalYear


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


def can_read(user, branch: Branch, fiscal_year: FiscalYear, plan: BranchPlan | None) -> bool:
    if is_admin(user):
        return True
    membership = membership_of(user)
    if membership and membership.branch_id == branch.pk:
        return True
    return bool(plan and plan.is_published) and may_read_published(user)


def branch_year_for_user(user, code: str, start_year: int):
    """The branch, fiscal year and plan named in a URL, or 404 when unknown or not readable.

    Unreadable and unknown look the same (404), so nothing leaks about unpublished years.
    """
    branch = get_object_or_404(Branch, code=code)
    fiscal_year = get_object_or_404(FiscalYear, start_year=start_year)
    plan = BranchPlan.objects.filter(branch=branch, fiscal_year=fiscal_year).first()
    if not can_read(user, branch, fiscal_year, plan):
        raise Http404("この支部・年度は閲覧できません。")
    return branch, fiscal_year, plan
