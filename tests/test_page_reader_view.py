"""Council readers see only the document; the branch's members and head office see the
evaluation notes, the 手動 badge and the suggested mark under 「判定の詳細」."""

import re

import pytest

from kpis.models import Kpi
from tests import factories
from tests.factories_pages import BranchPlanFactory, indicator

pytestmark = pytest.mark.django_db

NOTES = ("評価できません：", "結果は手動で設定されています", "自動判定：○", ">手動<")


@pytest.fixture
def saitama_notes():
    """A published 埼玉 FY2023 plan with a manual mark differing from the suggestion and a
    KPI that cannot be evaluated."""
    BranchPlanFactory(fiscal_year=factories.FiscalYearFactory(start_year=2023))
    manual = factories.KpiFactory(
        measure__fiscal_year__start_year=2023,
        indicator=indicator(50),
        target_text="96.5%以上",
        actual_text="97.0%",
    )
    manual.mark_source, manual.mark, manual.mark_reason = Kpi.MarkSource.MANUAL, "◎", "大幅改善"
    manual.save()
    unreadable = factories.KpiFactory(
        measure=manual.measure,
        indicator=indicator(51),
        target_text="対前年度以上",
        actual_text="83.0%",
    )
    assert manual.is_manual_override and unreadable.evaluation_problem


def page(client, user) -> str:
    client.force_login(user)
    response = client.get("/branches/11/2023/")
    assert response.status_code == 200
    return response.content.decode()


def details(html: str) -> str:
    """The text of the page's 判定の詳細 blocks."""
    return " ".join(re.findall(r"<details class=\"judgement[^>]*>(.*?)</details>", html, re.S))


def test_council_reads_no_evaluation_notes_manual_badge_or_suggestion(
    client, council, saitama_notes
):
    html = page(client, council)

    assert "◎" in html  # the mark itself is the branch's and part of the document
    for note in (*NOTES, "判定の詳細"):
        assert note not in html


def test_anonymous_readers_of_public_pages_read_no_notes_either(client, settings, saitama_notes):
    settings.PUBLIC_ACHIEVEMENT_PAGES = True
    response = client.get("/branches/11/2023/")

    assert response.status_code == 200
    for note in (*NOTES, "判定の詳細"):
        assert note not in response.content.decode()


@pytest.mark.parametrize("reader", ["admin", "staff_11"])
def test_branch_members_and_admins_find_the_notes_under_the_toggle(
    request, client, reader, saitama_notes
):
    html = page(client, request.getfixturevalue(reader))

    assert "<summary>判定の詳細</summary>" in html
    inside = details(html)
    for note in NOTES:
        assert note in inside
    assert "理由：大幅改善" in inside
    outside = re.sub(r"<details class=\"judgement.*?</details>", "", html, flags=re.S)
    for note in NOTES:
        assert note not in outside


def test_members_of_another_branch_read_as_the_council(client, staff_12, saitama_notes):
    html = page(client, staff_12)

    for note in (*NOTES, "判定の詳細"):
        assert note not in html
