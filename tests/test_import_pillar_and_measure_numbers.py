"""Pillars (区分) and measure numbers (施策番号) as branches write them: any numbering style
or none, the national pillar found by name and the branch's wording kept; measure numbers
with sub-numbers kept as written and ordered by their sort key."""

import pytest

from kpis.models import Measure
from kpis.numbering import measure_sort_key, split_measure_number, split_pillar
from tests.factories_imports import kpi_row, load, problems, xlsx

pytestmark = pytest.mark.django_db


def only_measure() -> Measure:
    return Measure.objects.select_related("pillar").get()


@pytest.mark.parametrize(
    ("written", "number", "label"),
    [
        ("1 基盤的保険者機能関係", 1, "基盤的保険者機能関係"),
        ("1、基盤的保険者機能関係", 1, "基盤的保険者機能関係"),
        ("１．基盤的保険者機能", 1, "基盤的保険者機能"),
        ("(2) 戦略的保険者機能の一層の発揮", 2, "戦略的保険者機能の一層の発揮"),
        ("（２）戦略的保険者機能関係", 2, "戦略的保険者機能関係"),
        ("②戦略的保険者機能", 2, "戦略的保険者機能"),
        ("Ⅲ 組織・運営体制の強化", 3, "組織・運営体制の強化"),
        ("III. 組織体制", 3, "組織体制"),
        ("一、基盤的保険者機能関係", 1, "基盤的保険者機能関係"),
        ("第3 組織・運営体制関係", 3, "組織・運営体制関係"),
        ("基盤的保険者機能関係", 1, "基盤的保険者機能関係"),
        ("（基盤的保険者機能の盤石化）", 1, "基盤的保険者機能の盤石化"),
        (
            "(3) 保険者機能の強化を支える組織・運営体制等の整備",
            3,
            "保険者機能の強化を支える組織・運営体制等の整備",
        ),
    ],
)
def test_a_pillar_in_any_numbering_style_or_none_is_found_by_name(written, number, label):
    load(xlsx([kpi_row(区分=written)]))

    measure = only_measure()
    assert (measure.pillar.number, measure.pillar_label) == (number, label)


def test_a_pillar_name_matching_no_national_pillar_names_the_three():
    assert problems(xlsx([kpi_row(区分="1 健康づくり")])) == [
        "KPI!C2: 区分「1 健康づくり」が全国の区分（「基盤的保険者機能」・「戦略的保険者機能」・"
        "「組織・運営体制」）のどれにも当たりません"
    ]


def test_a_written_number_contradicting_the_name_follows_the_name_with_a_notice():
    batch = load(xlsx([kpi_row(区分="2 基盤的保険者機能関係")]))

    assert only_measure().pillar.number == 1
    assert any("番号2は名前と合わない" in notice for notice in batch.notices), batch.notices


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("(1)", "001"),
        ("（１）", "001"),
        ("1", "001"),
        ("(1)-1", "001.001"),
        ("1-2", "001.002"),
        ("(1)①", "001.001"),
        ("(１)－２", "001.002"),
        ("2-①", "002.001"),
        ("1.", "001"),
        ("①", "001"),
    ],
)
def test_measure_numbers_are_kept_as_written_with_a_sort_key(written, key):
    load(xlsx([kpi_row(施策番号=written)]))

    assert (only_measure().number_label, only_measure().sort_key) == (written, key)


def test_sub_numbered_measures_are_distinct_and_ordered_by_their_numbers():
    rows = [
        kpi_row(施策番号="(1)-2", 施策="後の施策", KPI指標="指標B"),
        kpi_row(施策番号="(1)-1", 施策="先の施策", KPI指標="指標A"),
        kpi_row(施策番号="(2)", 施策="次の施策", KPI指標="指標C"),
    ]
    load(xlsx(rows))

    assert [m.number_label for m in Measure.objects.all()] == ["(1)-1", "(1)-2", "(2)"]


def test_two_labels_of_one_number_with_different_titles_are_refused():
    rows = [kpi_row(施策番号="(1)-1", 施策="先の施策"), kpi_row(施策番号="1-1", 施策="別の施策")]

    assert problems(xlsx(rows)) == [
        "KPI!E3: 施策名「別の施策」が2行目の同じ施策番号と同じ番号（(1)-1 先の施策）と異なります"
    ]


def test_a_title_written_after_its_number_gives_the_number():
    header = ["支部コード", "年度", "区分", "具体的な施策", "KPI指標", "目標", "実績"]
    row = ["11", "令和5年度", "1 基盤的保険者機能関係", "(2)-1 サービス水準の向上", "郵送化率"]
    load(xlsx([[*row, "96.5%以上", "96.5%"]], header=header))

    measure = only_measure()
    assert (measure.number_label, measure.sort_key, measure.title) == (
        "(2)-1",
        "002.001",
        "サービス水準の向上",
    )


def test_a_title_without_a_number_and_no_number_column_is_refused():
    header = ["支部コード", "年度", "区分", "施策", "KPI指標"]
    row = ["11", "令和5年度", "1 基盤的保険者機能関係", "サービス水準の向上", "郵送化率"]

    assert problems(xlsx([row], header=header)) == [
        "KPI!D2: 施策番号がありません（「施策番号」の列に書くか、施策を「(1) 健全な財政運営」"
        "のように番号から書いてください）"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(1) 健全な財政運営", ("(1)", "健全な財政運営")),
        ("1. 健全な財政運営", ("1.", "健全な財政運営")),
        ("① 業務処理体制の強化", ("①", "業務処理体制の強化")),
        ("3部位以上の申請の割合", None),
        ("10か月以内に受診した者の割合", None),
    ],
)
def test_a_number_is_split_from_a_title_only_when_it_is_one(text, expected):
    assert split_measure_number(text) == expected


def test_unreadable_numbers_have_no_sort_key():
    assert [measure_sort_key(t) for t in ("a", "(0)", "", "(1)abc")] == [None] * 4
    assert split_pillar("基盤的保険者機能") == (None, "基盤的保険者機能")
