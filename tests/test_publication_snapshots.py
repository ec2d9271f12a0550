"""Published snapshots: council members read what was published, so a reopened, corrected
year keeps showing them the published figures (再確認中, with the date) until it is published
again; branch members and admins read the corrected figures and what differs."""

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from kpis import snapshots, writes
from kpis.models import Activity, BranchPlan, Kpi, MonthlyBreakdown, PublishedSnapshot
from kpis.summary import report_measures
from tests.factories_pages import plan_year

pytestmark = pytest.mark.django_db

URL = "/branches/11/2023/"


def step(client, user, name, reason=""):
    client.force_login(user)
    response = client.post(f"/entry/11/2023/workflow/{name}/", {"reason": reason})
    assert response.status_code == 302


def read(client, user):
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    return response, response.content.decode()


def shown_marks(response) -> list[str]:
    measures = response.context["publication"].measures
    if measures is None:  # the working version
        return list(Activity.objects.order_by("number").values_list("mark", flat=True))
    return [activity.mark for activity in measures[0].activities.all()]


def day(moment) -> str:
    local = timezone.localtime(moment)
    return f"{local.year}年{local.month}月{local.day}日"


@pytest.fixture
def published(client, admin):
    """埼玉 FY2023 submitted, then published by head office: KPI 96.5%以上 / 97.1%, two
    activities marked ◎ and ○."""
    plan_year("11", 2023, status=BranchPlan.Status.SUBMITTED, measures=1, activities=2, kpis=1)
    step(client, admin, "publish")
    return Kpi.objects.get()


def correct(admin, manager, kpi):
    """After the reopening: the manager corrects the actual (write path), head office the
    first activity's mark (Django admin)."""
    kpi.actual_text = "98.4%"
    writes.save_kpis([kpi], writes.Source(writes.Channel.ENTRY, manager, "実績の訂正"))
    activity = Activity.objects.order_by("number").first()
    client = Client()
    client.force_login(admin)
    response = client.post(
        f"/admin/kpis/activity/{activity.pk}/change/",
        {"measure": activity.measure_id, "number": 1, "text": activity.text, "mark": "△"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def test_reopened_corrected_year_shows_council_the_published_figures(
    client, admin, council, manager_11, staff_11, published
):
    response, text = read(client, council)
    assert "97.1%" in text
    assert shown_marks(response) == ["◎", "○"]

    step(client, admin, "reopen", "実績の訂正のため")
    correct(admin, manager_11, published)
    reopened_at = BranchPlan.objects.get().reopened_at

    response, text = read(client, council)
    assert "97.1%" in text and "98.4%" not in text
    assert shown_marks(response) == ["◎", "○"]
    assert "再確認中" in text and day(reopened_at) in text

    response, text = read(client, staff_11)
    assert "98.4%" in text
    assert shown_marks(response) == ["△", "○"]
    assert "再確認中" in text
    assert "実績：97.1% → 98.4%" in text
    assert "結果：◎ 計画を大幅に上回る → △ 計画を下回る" in text

    step(client, manager_11, "submit")
    step(client, admin, "publish")
    response, text = read(client, council)
    assert "98.4%" in text and "97.1%" not in text
    assert shown_marks(response) == ["△", "○"]
    assert "再確認中" not in text
    assert PublishedSnapshot.objects.filter(document="results").count() == 2


def test_head_office_republish_stores_what_readers_see(client, admin, council, published):
    published.actual_text = "99.0%"
    writes.save_kpis([published], writes.Source(writes.Channel.ADMIN, admin, "訂正"))
    assert "97.1%" in read(client, council)[1]

    client.force_login(admin)
    plan = BranchPlan.objects.get()
    client.post(
        "/admin/kpis/branchplan/", {"action": "republish_plans", "_selected_action": [plan.pk]}
    )

    text = read(client, council)[1]
    assert "99.0%" in text and "97.1%" not in text


def test_reopening_a_year_published_before_snapshots_keeps_it_for_council(
    client, admin, council, manager_11
):
    plan_year("11", 2023, measures=1, activities=1, kpis=1)  # published, no snapshot
    step(client, admin, "reopen", "実績の訂正のため")
    kpi = Kpi.objects.get()
    kpi.actual_text = "98.4%"
    writes.save_kpis([kpi], writes.Source(writes.Channel.ENTRY, manager_11, "訂正"))

    text = read(client, council)[1]
    assert "97.1%" in text and "98.4%" not in text and "再確認中" in text


def test_a_draft_never_published_stays_hidden(client, admin, council):
    plan_year("11", 2023, status=BranchPlan.Status.DRAFT, measures=1)
    client.force_login(council)
    assert client.get(URL).status_code == 404


def test_snapshot_round_trip_keeps_decimals_dates_and_json(admin):
    plan = plan_year("11", 2023, measures=1, activities=1, kpis=1, months=2)
    kpi = Kpi.objects.get()
    MonthlyBreakdown.objects.create(
        kpi=kpi, label="傷病手当金", series="single", months={"4": "2,657"}
    )
    snapshot = snapshots.capture(plan, PublishedSnapshot.Document.RESULTS, admin)
    snapshot.refresh_from_db()  # read back from JSON

    (measure,) = snapshots.measures_of(snapshot)
    (copy,) = measure.kpis.all()
    assert copy._state.adding  # unsaved
    assert copy.target_value == Decimal("96.5") and isinstance(copy.target_value, Decimal)
    assert copy.updated_at == Kpi.objects.get().updated_at
    assert copy.indicator.name == kpi.indicator.name
    assert [b.months for b in copy.breakdowns.all()] == [{"4": "2,657"}]
    assert [(v.month, v.series, v.text) for v in copy.monthly_values.all()] == list(
        kpi.monthly_values.order_by("series", "month").values_list("month", "series", "text")
    )
    assert measure.pillar.number == 1 and measure.activities.all()[0].text


def test_an_old_snapshot_reads_with_the_fields_the_models_have_now(admin):
    plan = plan_year("11", 2023, measures=1, activities=1, kpis=1)
    snapshot = snapshots.capture(plan, PublishedSnapshot.Document.RESULTS, admin)
    kpi_row = snapshot.data["measures"][0]["kpis"][0]
    kpi_row["retired_field"] = "x"  # a field removed since
    del kpi_row["tags"]  # a field added since
    kpi_row["target_value"] = "not a number"  # unreadable: the default
    snapshot.save()

    (measure,) = snapshots.measures_of(snapshot)
    (kpi,) = measure.kpis.all()
    assert kpi.tags == "" and kpi.target_value is None
    assert kpi.target_text == "96.5%以上"
    working = report_measures(plan.branch, plan.fiscal_year)
    assert snapshots.differences(snapshot, working) == []
