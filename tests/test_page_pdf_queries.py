"""The branch page's PDF asks the database as often as the page, however much data there is.

It builds the page's context the same way, then only lays it out (kpis/pdf.py): the layout
(WeasyPrint's write_pdf, seconds per document and no database) is left out here, the rest
of the view runs; tests/test_page_pdf.py lays a real one out.
"""

import pytest
import weasyprint
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories_pages import large_data_set, small_data_set
from tests.test_page_queries import PAGES

pytestmark = pytest.mark.django_db

BRANCH_PAGE_QUERIES = {url: counts for url, *counts in PAGES}["/branches/11/2023/"]


@pytest.mark.parametrize("data_set", [small_data_set, large_data_set])
def test_pdf_asks_the_database_as_often_as_the_page(
    data_set, client, admin, council, staff_11, monkeypatch
):
    monkeypatch.setattr(weasyprint.HTML, "write_pdf", lambda document, **options: b"%PDF-1.7")
    data_set()
    for user, queries in zip((admin, council, staff_11), BRANCH_PAGE_QUERIES, strict=True):
        client.force_login(user)
        with CaptureQueriesContext(connection) as page:
            assert client.get("/branches/11/2023/").status_code == 200
        client.force_login(user)
        with CaptureQueriesContext(connection) as document:
            assert client.get("/branches/11/2023/pdf/").status_code == 200
        assert len(document) == len(page) == queries, user.username
