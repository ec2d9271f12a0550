"""The columns the council pages need, read from the template and from the variants: which
numbered activity a KPI is (its ③), its sub-group (●被保険者), its tags (【新設】, kept apart
from the target) and the reasons for 重要度・困難度."""

import pytest

from kpis.models import Activity, Kpi, Measure
from tests.factories_imports import KPI_HEADER, activity_row, kpi_row, load, problems, xlsx

pytestmark = pytest.mark.django_db


def only_kpi() -> Kpi:
    return Kpi.objects.get()


def test_a_kpi_row_starting_with_its_activity_number_gives_the_number_and_the_bare_text():
    load(xlsx([kpi_row(事業内容="③ 郵送化率を96.5%以上とする")]))

    assert (only_kpi().activity_number, only_kpi().description) == (3, "郵送化率を96.5%以上とする")


def test_the_activity_number_column():
    header = [*KPI_HEADER, "事業内容の番号"]

    load(xlsx([kpi_row() + ["③"]], header=header))

    assert only_kpi().activity_number == 3


def test_an_activity_number_column_contradicting_the_text_is_refused():
    header = [*KPI_HEADER, "事業内容の番号"]
    row = kpi_row(事業内容="② 郵送化率を96.5%以上とする") + ["3"]

    assert problems(xlsx([row], header=header)) == [
        "KPI!S2: 事業内容の番号「3」が事業内容の先頭の番号（2）と異なります"
    ]


def test_a_subgroup_marker_before_the_kpi_text_is_the_kpis_subgroup():
    load(xlsx([kpi_row(事業内容="●被保険者 (生活習慣病予防健診)\n健診実施率を53.8%以上とする")]))

    kpi = only_kpi()
    assert (kpi.subgroup, kpi.description) == (
        "被保険者 (生活習慣病予防健診)",
        "健診実施率を53.8%以上とする",
    )


def test_a_marker_row_heads_the_kpi_rows_below_it_and_is_no_activity():
    rows = [
        activity_row("◆被扶養者", 施策番号="(2)", 施策="サービス水準の向上", 結果=""),
        kpi_row(),
    ]
    load(xlsx(rows))

    assert only_kpi().subgroup == "被扶養者"
    assert not Activity.objects.exists()


def test_the_subgroup_column_without_its_marker():
    load(xlsx([kpi_row() + ["●被保険者"]], header=[*KPI_HEADER, "対象"]))

    assert only_kpi().subgroup == "被保険者"


@pytest.mark.parametrize(
    ("column", "text", "kept"),
    [
        ("目標", "【新設】96.5%以上", "96.5%以上"),
        ("目標", "96.5%以上 【新設】", "96.5%以上"),
        ("目標", "【新設】", ""),
    ],
)
def test_tags_in_the_target_are_stored_apart(column, text, kept):
    load(xlsx([kpi_row(**{column: text})]))

    assert (only_kpi().target_text, only_kpi().tags) == (kept, "【新設】")


def test_tags_in_the_kpi_text_and_the_tag_column():
    row = kpi_row(事業内容="【新設】郵送化率を96.5%以上とする") + ["重点"]

    load(xlsx([row], header=[*KPI_HEADER, "タグ"]))

    assert (only_kpi().tags, only_kpi().description) == (
        "【重点】【新設】",
        "郵送化率を96.5%以上とする",
    )


def test_flags_in_brackets_are_no_tags():
    load(xlsx([kpi_row(事業内容="郵送化率を96.5%以上とする【重要度：高】")]))

    assert (only_kpi().tags, only_kpi().description) == (
        "",
        "郵送化率を96.5%以上とする【重要度：高】",
    )


def test_the_reasons_for_importance_and_difficulty_are_the_measures():
    header = [*KPI_HEADER, "重要度の理由", "困難度の理由"]
    rows = [
        kpi_row() + ["国の施策であるため", "申請件数が増えているため"],
        kpi_row(KPI指標="別の指標"),
    ]

    load(xlsx(rows, header=header))

    measure = Measure.objects.get()
    assert (measure.importance_reason, measure.difficulty_reason) == (
        "国の施策であるため",
        "申請件数が増えているため",
    )
