"""The yearly rollover (年度更新) on the demo data: 令和6年度 is opened for the branches whose
令和5年度 plan is the latest (千葉 has a 令和6年度 plan already and is left alone)."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from imports import applying, rollover
from imports.models import ImportBatch
from kpis import writes
from kpis.entry import services
from kpis.models import Activity, BranchPlan, Kpi, Measure, MonthlyValue

pytestmark = pytest.mark.usefixtures("demo")

NEW, OLD = 2024, 2023
# Session, user, groups, the latest year, the year before, the branches started in the new
# year (measures, KPIs), the year before's measures, activities and KPIs by branch, branches.
QUERIES = 12


def _open(*args):
    out = io.StringIO()
    call_command("open_fiscal_year", str(NEW), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (BranchPlan, Measure, Activity, Kpi, MonthlyValue)
    }


def _key(kpi):
    return kpi.branch_id, kpi.measure.pillar_id, kpi.measure.sort_key, kpi.indicator_id


def _carried_pairs():
    old = {_key(k): k for k in Kpi.objects.filter(fiscal_year__start_year=OLD)}
    new = Kpi.objects.filter(fiscal_year__start_year=NEW).exclude(branch__code="12")
    return [(old[_key(k)], k) for k in new.select_related("measure")]


@pytest.mark.django_db
def test_each_branch_gets_its_plan_once(admin):
    chiba_before = Kpi.objects.filter(fiscal_year__start_year=NEW, branch__code="12").count()
    expected = {
        code: Kpi.objects.filter(fiscal_year__start_year=OLD, branch__code=code).count()
        for code in ("10", "11")
    }

    output = _open("--user", admin.username)

    for code, count in expected.items():
        assert Kpi.objects.filter(fiscal_year__start_year=NEW, branch__code=code).count() == count
        old_measures = Measure.objects.filter(fiscal_year__start_year=OLD, branch__code=code)
        new_measures = Measure.objects.filter(fiscal_year__start_year=NEW, branch__code=code)
        assert sorted(new_measures.values_list("number_label", "title")) == sorted(
            old_measures.values_list("number_label", "title")
        )
        assert (
            Activity.objects.filter(
                measure__fiscal_year__start_year=NEW, measure__branch__code=code
            ).count()
            == Activity.objects.filter(
                measure__fiscal_year__start_year=OLD, measure__branch__code=code
            ).count()
        )
        plan = BranchPlan.objects.get(fiscal_year__start_year=NEW, branch__code=code)
        assert plan.status == BranchPlan.Status.DRAFT
    assert Kpi.objects.filter(fiscal_year__start_year=NEW, branch__code="12").count() == (
        chiba_before
    )
    assert "2支部に作成しました" in output

    before = _counts()
    assert "作成する支部はありません" in _open()
    assert _counts() == before


@pytest.mark.django_db
def test_previous_actual_is_the_stored_actual_and_the_year_starts_blank():
    _open()
    pairs = _carried_pairs()
    assert len(pairs) > 30
    for old, new in pairs:
        assert new.previous_actual_text == old.actual_text
        assert (new.target_text, new.actual_text, new.note, new.tags) == ("", "", "", "")
        assert new.mark == "—"
    new_measures = Measure.objects.filter(fiscal_year__start_year=NEW).exclude(branch__code="12")
    assert not new_measures.exclude(narrative="", challenges="").exists()
    assert not Activity.objects.filter(measure__in=new_measures).exclude(mark="").exists()


@pytest.mark.django_db
def test_kept_relative_targets_evaluate_against_the_carried_actual(admin):
    _open("--keep-targets")
    relative = [
        (old, new)
        for old, new in _carried_pairs()
        if new.target_kind == "relative" and old.actual_value is not None
    ]
    assert relative
    for old, new in relative:
        assert new.target_text == old.target_text
        assert new.previous_actual_value == old.actual_value
        # The new year's first actual, equal to last year's, meets 対前年度以上.
        new.actual_text = old.actual_text
    writes.save_kpis([new for _, new in relative], writes.Source(writes.Channel.ENTRY, admin, ""))
    for old, new in relative:
        new.refresh_from_db()
        assert (new.evaluation_baseline, new.baseline_source) == (
            old.actual_value,
            "previous_actual",
        )
        assert new.achieved is True


@pytest.mark.django_db
def test_undo_removes_exactly_what_was_created(admin):
    before = _counts()
    _open()
    batch = ImportBatch.objects.latest("pk")
    assert _counts() != before

    applying.undo(batch, admin)

    assert _counts() == before


@pytest.mark.django_db
def test_undo_is_refused_after_an_entry_in_the_new_year(admin):
    _open()
    batch = ImportBatch.objects.latest("pk")
    kpi = Kpi.objects.filter(fiscal_year__start_year=NEW, branch__code="11").first()
    edit = writes.MonthlyEdit(kpi, 4, services.series_for(kpi.indicator), "10", 0, None)
    writes.save_monthly_values([edit], writes.Source(writes.Channel.ENTRY, admin, ""))
    counts = _counts()

    with pytest.raises(applying.UndoRefused, match="後から追加されたデータ"):
        applying.undo(batch, admin)

    assert _counts() == counts


@pytest.mark.django_db
def test_the_page_shows_each_branch_and_queues_the_preview(client, admin):
    client.force_login(admin)
    page = client.get(reverse("imports:rollover"), {"year": NEW})
    text = page.content.decode()
    assert "令和6年度（支部ごとに作成する件数）" in text
    assert "11 埼玉支部" in text and "10 群馬支部" in text
    assert "12 千葉支部" not in text

    response = client.post(reverse("imports:rollover"), {"year": NEW})

    batch = ImportBatch.objects.latest("pk")
    assert response.url == reverse("imports:progress", args=[batch.pk])
    assert batch.status == ImportBatch.Status.PREVIEWED
    assert batch.file_name == rollover.file_name(NEW)
    assert not Kpi.objects.filter(fiscal_year__start_year=NEW, branch__code="11").exists()


@pytest.mark.django_db
def test_the_page_is_for_admins_only(client, manager_11):
    client.force_login(manager_11)
    assert client.get(reverse("imports:rollover")).status_code == 403


@pytest.mark.django_db
def test_a_year_without_a_year_before_is_refused_plainly(client, admin):
    client.force_login(admin)
    page = client.get(reverse("imports:rollover"), {"year": 2030})
    assert "令和11年度の計画が登録されていないため" in page.content.decode()


@pytest.mark.django_db
def test_the_page_counts_every_branch_in_a_fixed_number_of_queries(
    client, admin, django_assert_num_queries
):
    client.force_login(admin)
    with django_assert_num_queries(QUERIES):
        client.get(reverse("imports:rollover"), {"year": NEW})
