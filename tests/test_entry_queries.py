"""Every entry page asks the database a fixed number of times, however many KPIs, values,
comments and changes a branch has."""

import pytest

from kpis.entry import services
from kpis.models import Comment
from tests import factories
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db


def branch_with(kpi_count: int, manager):
    kpis = []
    for n in range(kpi_count):
        kpi = fe.kpi(name=f"指標{n}", unit="%", aggregation=["sum", "cumulative", "point"][n % 3])
        # Under the three pillars: the grid groups its rows by pillar without asking again.
        kpi.measure.pillar = factories.PillarFactory(number=1 + n % 3)
        kpi.measure.save()
        for month in (4, 5, 6):
            value = fe.value(kpi, month, f"{50 + n}%")
            value.text = f"{51 + n}%"
            value.save()
            Comment.objects.create(kpi=kpi, month=month, body="理由", author=manager)
        kpis.append(kpi)
    scope = services.entry_scope(manager, kpis[0].branch, kpis[0].fiscal_year, None)
    services.transition(scope, "submit")
    return kpis


PAGES = [
    ("grid", "manager_11", lambda kpis: "/entry/11/2023/", 12),
    # The measures' texts and the activities' marks have their own history tables.
    ("history", "manager_11", lambda kpis: "/entry/11/2023/history/", 14),
    ("kpi", "manager_11", lambda kpis: f"/entry/11/2023/kpi/{kpis[-1].pk}/", 14),
    ("cell", "manager_11", lambda kpis: f"/entry/11/2023/kpi/{kpis[-1].pk}/4/", 12),
    # Branch and year selects each ask twice (choices, then the required-attribute check).
    ("index admin", "admin", lambda kpis: "/entry/", 9),
    ("index member", "staff_11", lambda kpis: "/entry/", 6),
]


@pytest.mark.parametrize("kpi_count", [1, 7])
@pytest.mark.parametrize(("name", "user", "url", "queries"), PAGES, ids=[p[0] for p in PAGES])
def test_query_count_is_constant(
    request, client, django_assert_num_queries, manager_11, kpi_count, name, user, url, queries
):
    kpis = branch_with(kpi_count, manager_11)
    client.force_login(request.getfixturevalue(user))
    with django_assert_num_queries(queries):
        response = client.get(url(kpis))
    assert response.status_code in (200, 302)
