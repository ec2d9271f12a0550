"""A relative target (対前年度以上) is evaluated against the stored actual of the year
before: whichever way that actual changes — the admin, the entry pages, an import and its
undo, a deletion — the next year's 達成 follows, and the branch page shows the new basis."""

import pytest
from django.urls import reverse

from kpis.entry import services
from kpis.models import Kpi
from tests import factories_admin as fa
from tests import factories_entry as fe
from tests.factories_imports import kpi_row, load, xlsx

pytestmark = pytest.mark.django_db

NAME = "現金給付等の申請に係る郵送化率"


@pytest.fixture
def years(db):
    """埼玉: FY2023 with an actual, FY2024 whose target is 対前年度以上."""
    earlier = fe.kpi(year=2023, name=NAME, target_text="96.5%以上", actual_text="95.0%")
    later = fe.next_year(earlier, target_text="対前年度以上", actual_text="96.0%")
    return earlier, later


def evaluation(kpi):
    kpi.refresh_from_db()
    return kpi.evaluation_baseline, kpi.achieved


def test_the_admin_correcting_an_actual_moves_the_next_years_basis(client, admin, years):
    earlier, later = years
    assert evaluation(later) == (95, True)

    client.force_login(admin)
    response = client.post(fa.kpi_url(earlier), fa.kpi_change(earlier, actual_text="97.0%"))

    assert response.status_code == 302
    assert evaluation(later) == (97, False)
    record = later.history.latest()
    assert record.history_change_reason == "管理画面（前後の年度の変更による再評価）"
    page = client.get(reverse("kpis:branch_year", args=["11", 2024])).content.decode()
    assert "97.0%" in page


def test_the_manager_setting_the_actual_from_the_months_moves_the_basis(client, manager_11, years):
    earlier, later = years
    fe.value(earlier, 4, "97.5%")
    client.force_login(manager_11)

    url = reverse("entry:actual", args=["11", 2023, earlier.pk])
    client.post(url, {"stamp": services.history_stamp(earlier)})

    earlier.refresh_from_db()
    assert earlier.actual_text.startswith("97.5%")
    assert evaluation(later) == (97.5, False)


def test_an_import_and_its_undo_move_the_basis_there_and_back(admin, years):
    _, later = years
    batch = load(xlsx([kpi_row(**{"KPI指標": NAME, "実績": "97%"})]))
    assert evaluation(later) == (97, False)

    from imports import pipeline

    pipeline.undo(batch, admin)
    assert evaluation(later) == (95, True)


def test_deleting_the_earlier_kpi_in_the_admin_leaves_the_later_without_basis(client, admin, years):
    earlier, later = years
    client.force_login(admin)
    client.post(f"/admin/kpis/kpi/{earlier.pk}/delete/", {"post": "yes"})

    assert not Kpi.objects.filter(pk=earlier.pk).exists()
    later.refresh_from_db()
    assert later.achieved is None
    assert later.evaluation_problem_code == "no_baseline"
