"""Achievement and suggested marks: the rules of kpis.evaluation."""

from decimal import Decimal

import pytest

from kpis.evaluation import (
    DEFAULT_EXCELLENT_MARGIN,
    MARKS,
    Direction,
    Evaluation,
    evaluate,
    mark_is_consistent,
)
from kpis.notation import Comparator, parse_target, parse_value

HIGHER, LOWER, QUALITATIVE = Direction.HIGHER, Direction.LOWER, Direction.QUALITATIVE
GE, LE = Comparator.AT_LEAST, Comparator.AT_MOST


def run(target, actual, direction=HIGHER, **kwargs) -> Evaluation:
    return evaluate(parse_target(target), parse_value(actual), direction, **kwargs)


def test_marks_and_default_margin():
    assert MARKS == ("◎", "○", "△", "×", "—")
    assert str(DEFAULT_EXCELLENT_MARGIN) == "0.10"


@pytest.mark.parametrize(
    ("target", "actual", "direction", "achieved", "mark", "comparator"),
    [
        ("96.5%以上", "96.5%", HIGHER, True, "○", GE),
        ("96.5%以上", "96.4%", HIGHER, False, "△", GE),
        ("96.5%以上", "100%", HIGHER, True, "○", GE),
        ("50%以上", "55%", HIGHER, True, "◎", GE),  # margin exactly 0.10
        ("0.94%以下", "0.83%", LOWER, True, "◎", LE),
        ("0.94%以下", "0.95%", LOWER, False, "△", LE),
        # A bare target means "at least" on a higher-is-better indicator …
        ("94.0%", "85.8%", HIGHER, False, "△", GE),
        ("100%", "100%", HIGHER, True, "○", GE),
        # … and "at most" on a lower-is-better one.
        ("20%", "6.7%", LOWER, True, "◎", LE),
        ("20%", "21%", LOWER, False, "△", LE),
        # The written comparator wins over the indicator's direction.
        ("20%以下", "6.7%", HIGHER, True, "◎", LE),
        ("20%以上", "6.7%", LOWER, False, "△", GE),
        # A spreadsheet cell without a unit takes the target's unit.
        ("96.5%以上", "95.3", HIGHER, False, "△", GE),
        ("8,364円以上", "10123", HIGHER, True, "◎", GE),
        ("4:56以下", "４：３０", LOWER, True, "○", LE),
    ],
)
def test_absolute_targets(target, actual, direction, achieved, mark, comparator):
    result = run(target, actual, direction)
    assert (result.achieved, result.suggested_mark, result.comparator) == (
        achieved,
        mark,
        comparator,
    )
    assert result.baseline == parse_target(target).value
    assert result.baseline_source == "target"
    assert result.problem == ""


def test_margin_is_relative_to_the_target():
    def rounded(margin):
        return margin.quantize(Decimal("1E-12"))

    assert rounded(run("0.94%以下", "0.83%", LOWER).margin) == Decimal("0.132530120482")
    assert rounded(run("60.24%以上", "66.62%").margin) == Decimal("0.105909694555")
    assert run("85.38%以上", "80.15%").margin < 0
    assert run("100%", "100%").margin == 0


def test_excellent_margin_is_a_parameter():
    assert run("50%以上", "55%", excellent_margin=Decimal("0.20")).suggested_mark == "○"
    assert run("50%以上", "60%", excellent_margin=Decimal("0.20")).suggested_mark == "◎"


class TestZeroDenominators:
    def test_nothing_left_on_an_at_most_target_is_well_above_plan(self):
        result = run("5件以下", "0件", LOWER)
        assert (result.achieved, result.suggested_mark, result.margin) == (True, "◎", None)

    def test_zero_on_a_zero_at_most_target_is_as_planned(self):
        result = run("0件以下", "0件", LOWER)
        assert (result.achieved, result.suggested_mark, result.margin) == (True, "○", 0)

    def test_above_a_zero_at_least_target_is_well_above_plan(self):
        # Mirror of the at-most case: swapping comparator and numbers gives the same answer.
        result = run("0件以上", "3件")
        assert (result.achieved, result.suggested_mark, result.margin) == (True, "◎", None)

    def test_zero_on_a_zero_at_least_target_is_as_planned(self):
        result = run("0件以上", "0件")
        assert (result.achieved, result.suggested_mark) == (True, "○")

    def test_negative_target(self):
        result = run("△10以上", "△5")
        assert (result.achieved, result.margin, result.suggested_mark) == (
            True,
            Decimal("0.5"),
            "◎",
        )


class TestRelativeTargets:
    def test_baseline_written_in_the_text_comes_first(self):
        result = run("対前年度（8,364円）以上", "10,123円", previous_actual=parse_value("20,000円"))
        assert (result.baseline, result.baseline_source) == (Decimal("8364"), "written")
        assert (result.achieved, result.suggested_mark) == (True, "◎")

    def test_then_the_rows_previous_actual(self):
        result = run(
            "対前年度以上",
            "80.15%",
            previous_actual=parse_value("85.45%"),
            stored_previous_actual=parse_value("70%"),
        )
        assert (result.baseline, result.baseline_source) == (Decimal("85.45"), "previous_actual")
        assert (result.achieved, result.suggested_mark, result.comparator) == (False, "△", GE)

    def test_then_the_stored_previous_actual(self):
        result = run(
            "対前年度以上",
            "0.251%",
            previous_actual=parse_value(""),
            stored_previous_actual=parse_value("0.191%"),
        )
        assert (result.baseline, result.baseline_source) == (Decimal("0.191"), "stored_previous")
        assert (result.achieved, result.suggested_mark) == (True, "◎")

    def test_no_baseline_cannot_tell(self):
        result = run("対前年度以上", "80.15%", previous_actual=parse_value("—"))
        assert (result.achieved, result.suggested_mark) == (None, "—")
        assert result.problem == "前年度実績が未登録のため評価できません"

    def test_unreadable_previous_actual_is_not_skipped(self):
        result = run(
            "対前年度以上",
            "80%",
            previous_actual=parse_value("02.0%"),
            stored_previous_actual=parse_value("70%"),
        )
        assert (result.achieved, result.suggested_mark) == (None, "—")
        assert result.problem == "前年度実績を読めません: 02.0%"

    def test_comparator_from_text(self):
        result = run("前年度(0.54％)以下", "0.50%", HIGHER)
        assert (result.achieved, result.comparator) == (True, LE)

    def test_comparator_from_direction_when_not_written(self):
        result = run("対前年度", "0.50%", LOWER, previous_actual=parse_value("0.54%"))
        assert (result.achieved, result.comparator) == (True, LE)

    def test_comparator_inside_the_bracket(self):
        result = run("対前年度以上（0.334%以上）", "0.3%", LOWER)
        assert (result.achieved, result.comparator, result.baseline) == (
            False,
            GE,
            Decimal("0.334"),
        )

    def test_previous_actual_in_another_unit(self):
        result = run("対前年度以上", "80%", previous_actual=parse_value("8,000円"))
        assert result.achieved is None
        assert result.problem == "前年度実績の単位（円）と実績の単位（%）が一致しません"


class TestUnits:
    def test_percent_target_with_yen_actual(self):
        result = run("96.5%以上", "10,123円")
        assert (result.achieved, result.suggested_mark) == (None, "—")
        assert result.problem == "目標の単位（%）と実績の単位（円）が一致しません"

    def test_unit_on_the_actual_only_cannot_be_checked(self):
        result = run("0.965", "95.3%")
        assert result.achieved is None
        assert result.problem == "目標の単位（なし）と実績の単位（%）が一致しません"

    def test_thousand_yen_is_not_yen(self):
        assert run("8,364円以上", "9千円").achieved is None

    def test_rank_actual_never_meets_a_non_rank_target(self):
        result = run("20%以上", "46位")
        assert (result.achieved, result.suggested_mark) == (None, "—")
        assert run("20", "46位").achieved is None


class TestRanks:
    @pytest.mark.parametrize(
        ("target", "actual", "achieved", "mark"),
        [
            ("10位以上", "10位", True, "○"),
            ("10位以上", "5位", True, "◎"),
            ("10位以上", "20位", False, "△"),  # a bigger number is a worse rank
            ("10位", "9位", True, "◎"),  # bare rank target: this rank or better
            ("10位", "11位", False, "△"),
            ("10位以上", "10", True, "○"),
        ],
    )
    def test_smaller_rank_is_better(self, target, actual, achieved, mark):
        result = run(target, actual, HIGHER)
        assert (result.achieved, result.suggested_mark) == (achieved, mark)

    def test_relative_rank(self):
        result = run("対前年度以上", "38位", previous_actual=parse_value("27位"))
        assert (result.achieved, result.suggested_mark) == (False, "△")


class TestQualitative:
    @pytest.mark.parametrize(
        ("actual", "achieved", "mark"),
        [
            ("実施", True, "○"),
            ("実施済", True, "○"),
            ("達成", True, "○"),
            ("未達成", False, "△"),
            ("未実施", False, "×"),
            ("実施中", None, "—"),
            ("病床機能報告定量基準分析結果に対して意見発信", None, "—"),
            ("85%", None, "—"),
        ],
    )
    def test_qualitative_target(self, actual, achieved, mark):
        result = run("効果的な意見発信の実施", actual, QUALITATIVE)
        assert (result.achieved, result.suggested_mark) == (achieved, mark)

    def test_not_done_is_a_cross_whatever_the_target(self):
        assert run("96.5%以上", "未実施").suggested_mark == "×"

    def test_words_do_not_achieve_a_number(self):
        result = run("96.5%以上", "達成")
        assert (result.achieved, result.suggested_mark) == (None, "—")
        assert result.problem

    def test_bare_number_on_a_qualitative_indicator_has_no_direction(self):
        result = run("100%", "100%", QUALITATIVE)
        assert (result.achieved, result.suggested_mark) == (None, "—")
        assert result.problem


class TestCannotTell:
    def test_no_actual(self):
        result = run("13.1%以上", "—")
        assert (result.achieved, result.suggested_mark, result.problem) == (None, "—", "")

    @pytest.mark.parametrize("target", ["", "—", "【新設】", "※KPIの設定なし"])
    def test_no_target(self, target):
        result = run(target, "85%")
        assert (result.achieved, result.suggested_mark) == (None, "—")
        assert result.problem == "目標が設定されていません"

    def test_unreadable_target(self):
        result = run("96.5%以上以上", "97%")
        assert (result.achieved, result.suggested_mark) == (None, "—")
        assert result.problem == "目標を読めません: 96.5%以上以上"

    def test_unreadable_actual(self):
        result = run("96.5%以上", "02.0%")
        assert (result.achieved, result.suggested_mark) == (None, "—")
        assert result.problem == "実績を読めません: 02.0%"

    def test_a_lone_triangle_is_a_mark_not_an_actual(self):
        assert run("0%以上", "△").achieved is None


class TestMarkIsConsistent:
    def test_agreeing_mark(self):
        assert mark_is_consistent("◎", run("0.94%以下", "0.83%", LOWER))

    def test_disagreeing_mark(self):
        assert not mark_is_consistent("○", run("0.94%以下", "0.83%", LOWER))
        assert not mark_is_consistent("◎", run("85.38%以上", "80.15%"))
        assert not mark_is_consistent("—", run("96.5%以上", "96.5%"))

    def test_any_mark_where_the_rule_cannot_tell(self):
        evaluation = run("効果的な意見発信の実施", "病床機能報告定量基準分析結果に対して意見発信")
        assert all(mark_is_consistent(mark, evaluation) for mark in MARKS)

    def test_unknown_mark(self):
        assert not mark_is_consistent("達成", run("96.5%以上", "96.5%"))
