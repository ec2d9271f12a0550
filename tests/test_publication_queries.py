"""The snapshot path asks the database a fixed number of times, however large the year.

As tests/test_page_queries.py does for the working version: the branch page and the plan
page of 埼玉 FY2023, measured on a small data set and a larger one (three branches × three
years, each published as plan and results, so with snapshots), for a council member (the
published snapshot), an admin and a branch member (the working version and what differs).
The counts include the session, the user and the navigation's membership.
"""

import pytest
from django.db import transaction
from django.utils import timezone

from kpis import snapshots
from kpis.models import BranchPlan, PublishedSnapshot
from tests.factories_pages import large_data_set, small_data_set

pytestmark = pytest.mark.django_db

# (url, admin, council, branch member)
PAGES = [
    # Council: the year before's months come with the snapshot, not a query of their own.
    ("/branches/11/2023/", 16, 12, 17),
    ("/branches/11/2023/plan/", 14, 10, 15),
]
DATA_SETS = {"small": small_data_set, "large": large_data_set}


def publish_everything():
    """Every plan published as plan and results, each with its snapshot."""
    now = timezone.now()
    for plan in BranchPlan.objects.select_related("branch", "fiscal_year"):
        for document in PublishedSnapshot.Document.values:
            snapshots.capture(plan, document, None, now)
    BranchPlan.objects.update(plan_published_at=now)


@pytest.fixture(scope="module", params=DATA_SETS)
def published(request, django_db_setup, django_db_blocker):
    """Each data set built and published once for the module's tests (the larger one takes
    4 s on PostgreSQL) and rolled back after them; a test's reopening is rolled back after
    the test."""
    with django_db_blocker.unblock(), transaction.atomic():
        DATA_SETS[request.param]()
        publish_everything()
        yield request.param
        transaction.set_rollback(True)


@pytest.mark.parametrize(("url", "admin_queries", "council_queries", "member_queries"), PAGES)
def test_query_count_is_fixed(
    client,
    django_assert_num_queries,
    admin,
    council,
    staff_11,
    published,
    url,
    admin_queries,
    council_queries,
    member_queries,
):
    for state in ("published", "reopened"):
        if state == "reopened":
            BranchPlan.objects.update(status=BranchPlan.Status.DRAFT, reopened_at=timezone.now())
        for user, queries in (
            (admin, admin_queries),
            (council, council_queries),
            (staff_11, member_queries),
        ):
            client.force_login(user)
            with django_assert_num_queries(queries):
                response = client.get(url)
            assert response.status_code == 200, state
            assert response.context["publication"].snapshot is not None, state
