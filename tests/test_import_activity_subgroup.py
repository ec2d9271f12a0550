"""An activity's sub-group (対象: ●被保険者, ◆被扶養者) is stored apart from its text, from a
対象 column or from a marker written before the text, so the branch page can head the group
instead of repeating the marker on every row."""

import pytest

from kpis.models import Activity
from tests.factories_imports import KPI_HEADER, activity_row, demo, load, xlsx

pytestmark = pytest.mark.django_db


def activities() -> list[tuple]:
    return list(Activity.objects.order_by("number").values_list("number", "subgroup", "text"))


def test_the_subgroup_column_of_activity_rows_is_stored_and_numbers_restart_per_group():
    header = [*KPI_HEADER, "対象"]
    rows = [
        activity_row("① 勧奨対象者を選定し受診を促進する") + ["●被保険者"],
        activity_row("② 新規健診機関を拡大する") + ["●被保険者"],
        activity_row("① 自治体と連携し集団健診を実施する") + ["◆被扶養者"],
    ]

    batch = load(xlsx(rows, header=header))

    assert activities() == [
        (1, "被保険者", "勧奨対象者を選定し受診を促進する"),
        (2, "被保険者", "新規健診機関を拡大する"),
        (3, "被扶養者", "自治体と連携し集団健診を実施する"),
    ]
    # Numbering from ① in each sub-group is the report's own, not a broken numbering.
    assert not any("番号が重複" in notice for notice in batch.notices or [])


def test_a_marker_before_the_activity_text_is_its_subgroup_not_part_of_the_text():
    load(xlsx([activity_row("◆被扶養者 (特定健診) ① 自治体と連携し集団健診を実施する")]))

    assert activities() == [(1, "被扶養者 (特定健診)", "自治体と連携し集団健診を実施する")]


def test_a_marker_row_heads_the_activities_below_it():
    rows = [activity_row("●被保険者", 結果=""), activity_row("① 勧奨対象者を選定する")]

    load(xlsx(rows))

    assert activities() == [(1, "被保険者", "勧奨対象者を選定する")]


def test_the_saitama_demo_activities_carry_their_subgroups_without_prefixes():
    load(demo("saitama_2023_kpi.xlsx"), "saitama_2023_kpi.xlsx")

    texts = Activity.objects.values_list("text", flat=True)
    assert not [text for text in texts if text.startswith(("●", "◆"))]
    grouped = Activity.objects.filter(
        measure__title="特定健診実施率・事業者健診データ取得率の向上"
    ).order_by("number")
    assert [(a.number, a.subgroup) for a in grouped] == [
        (1, "被保険者 (生活習慣病予防健診)"),
        (2, "被保険者 (生活習慣病予防健診)"),
        (3, "被保険者 (生活習慣病予防健診)"),
        (4, "被保険者 (事業者健診データ)"),
        (5, "被保険者 (事業者健診データ)"),
        (6, "被保険者 (事業者健診データ)"),
        (7, "被保険者 (事業者健診データ)"),
        (8, "被扶養者 (特定健診)"),
        (9, "被扶養者 (特定健診)"),
    ]
