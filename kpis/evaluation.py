"""Whether a KPI was achieved, and the mark it deserves.

Pure Python: works on `notation.Reading`s. When a comparison cannot be made with certainty
the answer is "cannot tell" (achieved None, mark "—") with a Japanese `problem`, never a
guess: a wrong 達成 on a council page is the worst error this module could make.

Margin is the relative distance from the reference in the favourable direction:
(actual − target) / |target| for "at least", (target − actual) / |actual| for "at most"
(for positive numbers: actual/target − 1 and target/actual − 1). Swapping the comparator
and the two numbers gives the same margin. Over a zero denominator the margin is 0 when the
numbers are equal, otherwise unbounded and left None; a positive unbounded margin counts as
well above plan (0 件 on a 5件以下 target, and symmetrically 3件 on 0件以上).

Units: an actual without a unit (a spreadsheet cell) takes the reference's unit; an actual
with a unit needs the same unit on the reference, so `95.3%` against a bare `0.965` is a
problem rather than a comparison across scales.

Ranks (`10位`) read the other way round: a smaller number is better, so `10位以上` ("10th or
better") is met by 1..10. The comparator reported stays the written one.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from kpis.notation import RANK_UNIT, Comparator, Kind, Reading
from kpis.vocabulary import (
    AS_PLANNED,
    BELOW_PLAN,
    EXCELLENT,
    MARKS,
    NOT_DONE,
    NOT_EVALUATED,
    Direction,
)


class ProblemCode(StrEnum):
    """Why a KPI could not be evaluated: callers branch on the code, pages show the message."""

    NO_TARGET = "no_target"
    TARGET_UNREADABLE = "target_unreadable"
    ACTUAL_UNREADABLE = "actual_unreadable"
    ACTUAL_NOT_NUMBER = "actual_not_number"
    QUALITATIVE_NUMBER = "qualitative_number"
    UNDECIDED_WORDING = "undecided_wording"
    UNIT_MISMATCH = "unit_mismatch"
    NO_DIRECTION = "no_direction"
    BASELINE_UNREADABLE = "baseline_unreadable"
    NO_BASELINE = "no_baseline"


DEFAULT_EXCELLENT_MARGIN = Decimal("0.10")

# 未実施 is "not done" (×); 未達成 is done but short of the target (△).
NOT_DONE_WORD = "未実施"

_FLIPPED = {Comparator.AT_LEAST: Comparator.AT_MOST, Comparator.AT_MOST: Comparator.AT_LEAST}
_BY_DIRECTION = {Direction.HIGHER: Comparator.AT_LEAST, Direction.LOWER: Comparator.AT_MOST}


@dataclass(frozen=True)
class Evaluation:
    achieved: bool | None
    suggested_mark: str
    margin: Decimal | None = None
    baseline: Decimal | None = None
    baseline_source: str = ""  # "target" | "written" | "previous_actual" | "stored_previous"
    comparator: Comparator | None = None
    problem: str = ""
    problem_code: ProblemCode | None = None


def evaluate(
    target: Reading,
    actual: Reading,
    direction: Direction = Direction.HIGHER,
    *,
    previous_actual: Reading | None = None,
    stored_previous_actual: Reading | None = None,
    excellent_margin: Decimal = DEFAULT_EXCELLENT_MARGIN,
) -> Evaluation:
    if actual.kind is Kind.EMPTY:
        return Evaluation(None, NOT_EVALUATED)
    if actual.done is False and actual.note.startswith(NOT_DONE_WORD):
        return Evaluation(False, NOT_DONE)
    if target.kind in (Kind.EMPTY, Kind.NEW):
        return _cannot_tell(ProblemCode.NO_TARGET, "目標が設定されていません")
    if target.kind is Kind.UNPARSED:
        return _cannot_tell(ProblemCode.TARGET_UNREADABLE, f"目標を読めません: {target.text}")
    if actual.kind is Kind.UNPARSED:
        return _cannot_tell(ProblemCode.ACTUAL_UNREADABLE, f"実績を読めません: {actual.text}")
    if target.kind is Kind.QUALITATIVE:
        return _evaluate_qualitative(actual)
    if not actual.is_number:
        return _cannot_tell(
            ProblemCode.ACTUAL_NOT_NUMBER, "数値の目標に対して実績が数値ではありません"
        )

    if target.kind is Kind.RELATIVE:
        found = relative_baseline(target, previous_actual, stored_previous_actual)
        if isinstance(found[0], ProblemCode):
            return _cannot_tell(*found)
        reference, unit, source = found
    else:
        reference, unit, source = target.value, target.unit, "target"
    known = {"baseline": reference, "baseline_source": source}

    if actual.unit and actual.unit != unit:
        label = "目標" if source in ("target", "written") else "前年度実績"
        return _cannot_tell(
            ProblemCode.UNIT_MISMATCH,
            f"{label}の単位（{unit or 'なし'}）と実績の単位（{actual.unit}）が一致しません",
            **known,
        )

    is_rank = unit == RANK_UNIT
    comparator = target.comparator
    if comparator is None:
        comparator = Comparator.AT_LEAST if is_rank else _BY_DIRECTION.get(direction)
    if comparator is None:
        return _cannot_tell(
            ProblemCode.NO_DIRECTION,
            "指標の向き（高いほど良い／低いほど良い）が未設定のため評価できません",
            **known,
        )
    numeric = _FLIPPED[comparator] if is_rank else comparator

    if numeric is Comparator.AT_LEAST:
        achieved = actual.value >= reference
        difference, denominator = actual.value - reference, reference
    else:
        achieved = actual.value <= reference
        difference, denominator = reference - actual.value, actual.value
    if denominator:
        margin = difference / abs(denominator)
    else:
        margin = Decimal(0) if difference == 0 else None
    if not achieved:
        mark = BELOW_PLAN
    elif margin is None:
        mark = EXCELLENT  # a positive difference over zero is unbounded
    else:
        mark = EXCELLENT if margin >= excellent_margin else AS_PLANNED
    return Evaluation(achieved, mark, margin, comparator=comparator, **known)


def mark_is_consistent(mark: str, evaluation: Evaluation) -> bool:
    """False when a person's mark disagrees with the suggestion (an override to show).

    Where the rule cannot tell, any mark is a human judgement and nothing contradicts it.
    """
    if mark not in MARKS:
        return False
    return evaluation.achieved is None or mark == evaluation.suggested_mark


def _cannot_tell(code: ProblemCode, problem: str, **known) -> Evaluation:
    return Evaluation(None, NOT_EVALUATED, problem=problem, problem_code=code, **known)


def _evaluate_qualitative(actual: Reading) -> Evaluation:
    if actual.kind is not Kind.QUALITATIVE:
        return _cannot_tell(
            ProblemCode.QUALITATIVE_NUMBER, "定性的な目標に対して数値の実績は判定できません"
        )
    if actual.done is None:
        return _cannot_tell(ProblemCode.UNDECIDED_WORDING, "実績の記述から達成を判定できません")
    return Evaluation(actual.done, AS_PLANNED if actual.done else BELOW_PLAN)


def relative_baseline(
    target: Reading, previous: Reading | None, stored: Reading | None
) -> tuple[Decimal, str, str] | tuple[ProblemCode, str]:
    """(baseline, unit, source) for a relative target, or (code, problem) preventing it."""
    if target.baseline is not None:
        return target.baseline, target.baseline_unit, "written"
    for reading, source in ((previous, "previous_actual"), (stored, "stored_previous")):
        if reading is None or reading.kind is Kind.EMPTY:
            continue
        if not reading.is_number:
            # A baseline the row states but we cannot read must not be replaced silently.
            return ProblemCode.BASELINE_UNREADABLE, f"前年度実績を読めません: {reading.text}"
        return reading.value, reading.unit, source
    return ProblemCode.NO_BASELINE, "前年度実績が未登録のため評価できません"
