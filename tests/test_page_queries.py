"""Every reading page asks the database a fixed number of times, however much data there is.

Each page is measured on a small data set (one branch, one year, one KPI) and a larger one
(three branches × three years, twelve KPIs each with monthly values): the counts must match.
The counts include the session, the user, the user's groups and membership (navigation);
the home page's also the person's recent events (notices).
"""

import pytest
from django.db import transaction

from tests.factories_pages import large_data_set, small_data_set

pytestmark = pytest.mark.django_db

# (url, admin, council, branch member); {indicator} and {word} are filled in per data set.
PAGES = [
    ("/", 11, 11, 12),
    ("/?year=2023&region=kanto&sort=-achieved_share", 11, 11, 12),
    ("/branches/11/2023/", 16, 16, 17),
    ("/branches/11/", 5, 6, 6),
    ("/kpis/", 11, 11, 12),
    # A keyword search reads the filtered rows' texts once to match them (kpis.search).
    ("/kpis/?fiscal_year=2023&q={word}&sort=-actual&page=1", 12, 12, 13),
    ("/kpis/?export=csv", 10, 11, 11),
    ("/kpis/?export=xlsx&branch=11", 11, 12, 12),
    ("/indicators/", 6, 6, 7),
    ("/indicators/{indicator}/2023/", 8, 8, 9),
]
DATA_SETS = {"small": small_data_set, "large": large_data_set}
FACTORY_WORDS = {"indicator": "kyotsu-0", "word": "共通指標"}


@pytest.fixture(scope="module", params=DATA_SETS)
def data_set(request, django_db_setup, django_db_blocker):
    """Each data set built once for the module's tests (the larger one takes 1 s, 3 s on
    PostgreSQL) and rolled back after them; the tests only read it."""
    with django_db_blocker.unblock(), transaction.atomic():
        DATA_SETS[request.param]()
        yield request.param
        transaction.set_rollback(True)


def test_query_count_is_fixed(
    client, django_assert_num_queries, admin, council, staff_11, data_set
):
    for url, *counts in PAGES:
        url = url.format(**FACTORY_WORDS)
        for user, queries in zip((admin, council, staff_11), counts, strict=True):
            client.force_login(user)
            with django_assert_num_queries(queries, info=f"{url} as {user.username}"):
                response = client.get(url)
            assert response.status_code in (200, 302), url


def test_public_pages_query_count_is_fixed(client, settings, django_assert_num_queries, data_set):
    settings.PUBLIC_ACHIEVEMENT_PAGES = True
    for url, queries in (("/", 6), ("/branches/11/2023/", 12), ("/kpis/", 7)):
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200
