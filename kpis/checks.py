"""The value check every writer of KPI data uses: the entry grid, imports, the admin and
the write path itself (kpis.writes), so the same text gets the same verdict everywhere.

Two levels:
- an error refuses the value and nothing is written: unreadable text, a unit that
  contradicts the indicator's, a number the database cannot hold (what fits is said),
  text too long;
- a warning is implausible but possible, and is accepted when the person confirms it
  (a "save anyway" in the grid, a confirmation in the import preview): a rate above 100 %
  or below 0 %, a negative value in a cumulative or point-in-time series, a monthly count
  or amount more than `OUTLIER_FACTOR` times the median of the same series' other months.

A negative single-month count is valid: it is a net change (`△3事業所`, a net decrease).
Pure Python on readings; no Django import, so it is tested without a database.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from statistics import median

from kpis.notation import Kind, Reading, parse_target, parse_value

# The database stores numbers as DECIMAL(20, 6): 14 digits before the point, 6 after.
INTEGER_DIGITS = 14
DECIMAL_PLACES = 6
# A month more than ten times the median of the other months is worth a second look: an
# extra zero typed, or a cumulative figure in a 単月 row. Only upwards, and not for rates:
# real single-month series drop to a tenth (Gunma's 健康宣言事業所数: 1 against a median of
# 11) and a rate's first month can dwarf the follow-ups (提出率 70.04% then 1–5%), while
# a rate typed wrongly is mostly caught by the 100 % bound.
OUTLIER_FACTOR = Decimal(10)
# Outliers need a few other months to compare with; zeros are legitimate months.
OUTLIER_MIN_OTHERS = 3


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Code(StrEnum):
    TOO_LONG = "too_long"
    UNREADABLE = "unreadable"
    UNIT_MISMATCH = "unit_mismatch"
    TOO_LARGE = "too_large"
    TOO_PRECISE = "too_precise"
    RATE_ABOVE_100 = "rate_above_100"
    RATE_BELOW_0 = "rate_below_0"
    NEGATIVE_RUNNING = "negative_running"
    OUTLIER = "outlier"


@dataclass(frozen=True)
class Finding:
    level: Level
    code: Code
    message: str

    @property
    def is_error(self) -> bool:
        return self.level is Level.ERROR


class Series(StrEnum):
    """How a monthly series reads (by the indicator's aggregation)."""

    SINGLE = "single"  # single-month figures that add up: a negative is a net change
    CUMULATIVE = "cumulative"  # running totals
    POINT = "point"  # as-at figures


def check_monthly(
    text: str,
    *,
    unit: str,
    qualitative: bool,
    series: Series,
    max_length: int,
    reading: Reading | None = None,
) -> list[Finding]:
    """Findings for one monthly cell on its own (see `check_outlier` for the series).

    `reading` is the text's `parse_value`, when the caller has read it already (an import
    reads thousands of texts; reading each twice was a tenth of the job)."""
    if len(text) > max_length:
        return [_error(Code.TOO_LONG, f"{max_length}文字以内で入力してください。")]
    if reading is None:
        reading = parse_value(text)
    if reading.is_empty or (reading.kind is Kind.QUALITATIVE and qualitative):
        return []
    if not reading.is_number:
        return [
            _error(Code.UNREADABLE, f"「{text}」を数値として読めません（例: 96.5%、1,234件、△2）。")
        ]
    findings = _number_findings(text, reading, unit)
    # A negative rate has its own warning; a negative single month is a net change.
    running = series is not Series.SINGLE and (reading.unit or unit) != "%"
    if running and reading.value < 0 and not any(f.is_error for f in findings):
        what = "累計" if series is Series.CUMULATIVE else "時点の値"
        findings.append(
            _warning(Code.NEGATIVE_RUNNING, f"{what}に負の値「{text}」が入力されています。")
        )
    return findings


def may_be_outlier(value: Decimal | None, unit: str) -> bool:
    """Whether a month's value is one `check_outlier` compares at all: not zero, not a rate."""
    return bool(value) and unit != "%"


def check_outlier(
    text: str, value: Decimal | None, others: Iterable[Decimal], *, unit: str
) -> list[Finding]:
    """A month far above the median of the same series' other months (zeros left out)."""
    if not may_be_outlier(value, unit):
        return []
    numbers = [abs(n) for n in others if n]
    if len(numbers) < OUTLIER_MIN_OTHERS:
        return []
    middle = median(numbers)
    if abs(value) > middle * OUTLIER_FACTOR:
        return [
            _warning(
                Code.OUTLIER,
                f"「{text}」はほかの月の中央値（{_plain(middle)}）の{OUTLIER_FACTOR}倍を"
                "超えています。",
            )
        ]
    return []


def outlier_bound(series: Iterable[Decimal]) -> Decimal | None:
    """A bound at or below which no month of `series` (the values of all its months) is an
    outlier for `check_outlier`; None when none can be (too few other months). The median
    of the other months is least when the largest value is the month left out: a month
    is checked only above that, not with a median of its own (a national import checks
    30,000 months)."""
    numbers = sorted(abs(n) for n in series if n)
    if len(numbers) - 1 < OUTLIER_MIN_OTHERS:
        return None
    return median(numbers[:-1]) * OUTLIER_FACTOR


def check_kpi_text(label: str, text: str, *, unit: str, max_length: int, target=False):
    """Findings for a KPI's 目標, 実績, 前年度実績 or 全国平均 as written."""
    if len(text) > max_length:
        return [_error(Code.TOO_LONG, f"{label}は{max_length}文字以内で入力してください。")]
    reading = parse_target(text) if target else parse_value(text)
    if reading.kind is Kind.UNPARSED:  # text the notation cannot read: never guessed
        return [_error(Code.UNREADABLE, f"{label}「{text}」を読めません")]
    findings = []
    if reading.baseline is not None:
        findings += _fits(f"{label}「{text}」", reading.baseline)
    if reading.is_number:
        findings += _number_findings(text, reading, unit, label=label)
    return findings


def _number_findings(text: str, reading: Reading, unit: str, label: str = "") -> list[Finding]:
    where = f"{label}「{text}」" if label else f"「{text}」"
    if reading.unit and unit and reading.unit != unit:
        return [
            _error(
                Code.UNIT_MISMATCH,
                f"単位「{reading.unit}」がこの指標の単位「{unit}」と合いません（{where}）。",
            )
        ]
    if errors := _fits(where, reading.value):
        return errors
    if (reading.unit or unit) == "%":
        if reading.value > 100:
            return [_warning(Code.RATE_ABOVE_100, f"率が100%を超えています（{where}）。")]
        if reading.value < 0:
            return [_warning(Code.RATE_BELOW_0, f"率が0%未満です（{where}）。")]
    return []


def _fits(where: str, value: Decimal) -> list[Finding]:
    """A number the DECIMAL(20, 6) columns cannot hold exactly is refused, saying what fits."""
    if value.adjusted() >= INTEGER_DIGITS:
        return [
            _error(
                Code.TOO_LARGE,
                f"{where}は大きすぎます。整数部分は{INTEGER_DIGITS}桁まで入力できます。",
            )
        ]
    if value.as_tuple().exponent < -DECIMAL_PLACES and value != value.quantize(
        Decimal(1).scaleb(-DECIMAL_PLACES)
    ):
        return [
            _error(
                Code.TOO_PRECISE,
                f"{where}は小数点以下の桁が多すぎます。小数点以下は{DECIMAL_PLACES}桁まで"
                "入力できます。",
            )
        ]
    return []


def _plain(value) -> str:
    return format(Decimal(value).normalize(), "f")


def _error(code: Code, message: str) -> Finding:
    return Finding(Level.ERROR, code, message)


def _warning(code: Code, message: str) -> Finding:
    return Finding(Level.WARNING, code, message)
