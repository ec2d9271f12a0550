"""Evaluating a stored KPI again changes nothing: importing the next year does not rewrite
the year before (no new version, no history row) when its evaluation is the same."""

import pytest

from kpis.models import Kpi
from tests import factories_entry as fe
from tests.factories_imports import kpi_row, load, xlsx

pytestmark = pytest.mark.django_db

NAME = "現金給付等の申請に係る郵送化率"


def test_importing_the_next_year_leaves_an_unchanged_previous_year_alone():
    fe.fiscal_year(2023)
    # 50% against 51%以上: a margin of -0.0196078431…, stored with six places.
    load(xlsx([kpi_row(**{"KPI指標": NAME, "目標": "51%以上", "実績": "50%"})]))
    earlier = Kpi.objects.get()
    history = earlier.history.count()

    load(xlsx([kpi_row(**{"KPI指標": NAME, "年度": "令和6年度", "目標": "対前年度以上"})]))

    earlier.refresh_from_db()
    assert earlier.version == 1
    assert earlier.history.count() == history
