"""Reading targets and actuals as branch documents write them.

Pure Python on purpose: importers, models and tests all share these readings. Every parse
keeps the original text and never raises; text we cannot read with certainty comes back as
`Kind.UNPARSED` rather than as a guessed number.

Conventions chosen here:
- Negative numbers are written `△12`, `▲3` or `-5`. A lone `△` is a mark, never a number.
- Durations `4:56` are hours:minutes; the value is the total in minutes and the unit "分".
- `47位` is a rank (a positive integer, unit "位").
- `1億4,200万` is read as 142,000,000; `千円` is a unit of its own, not converted to 円.
- Text with digits that is not one of the number forms is UNPARSED: it probably holds a
  number we would otherwise hide. Prose without digits is QUALITATIVE.
"""

import functools
import re
import unicodedata
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum


class Kind(StrEnum):
    NUMBER = "number"
    DURATION = "duration"
    RANK = "rank"
    RELATIVE = "relative"
    QUALITATIVE = "qualitative"
    EMPTY = "empty"
    NEW = "new"
    UNPARSED = "unparsed"


class Comparator(StrEnum):
    AT_LEAST = "ge"
    AT_MOST = "le"


COMPARATOR_WORDS = {Comparator.AT_LEAST: "以上", Comparator.AT_MOST: "以下"}
_COMPARATORS = {word: comparator for comparator, word in COMPARATOR_WORDS.items()}

DURATION_UNIT = "分"
RANK_UNIT = "位"

# Longest first so that 千円 is not read as 千 + 円.
UNITS = ("千円", "事業所", "機関", "%", "円", "件", "人", "日", "回", "位", "分", "名", "社")

# Qualitative actuals that say whether the work was done (or the KPI achieved).
DONE_WORDS = {
    "実施": True,
    "実施済": True,
    "実施済み": True,
    "済": True,
    "済み": True,
    "達成": True,
    "完了": True,
    "未実施": False,
    "未達成": False,
    "未達": False,
}

NEW_MARKER = "【新設】"

_NUMBER_KINDS = (Kind.NUMBER, Kind.DURATION, Kind.RANK)


@dataclass(frozen=True)
class Reading:
    text: str
    kind: Kind
    value: Decimal | None = None
    unit: str = ""
    comparator: Comparator | None = None
    baseline: Decimal | None = None
    baseline_unit: str = ""
    note: str = ""
    done: bool | None = None

    @property
    def is_empty(self) -> bool:
        """No value written (blank, a dash, KPIの設定なし). `【新設】` is NEW, not empty."""
        return self.kind is Kind.EMPTY

    @property
    def is_number(self) -> bool:
        return self.kind in _NUMBER_KINDS and self.value is not None

    def display(self) -> str:
        """A normalised human form: `96.5%以上`, `△5`, `4:56`, `対前年度（8,364円）以上`."""
        comparator = COMPARATOR_WORDS[self.comparator] if self.comparator else ""
        if self.kind is Kind.EMPTY:
            return "—"
        if self.kind is Kind.NEW:
            return NEW_MARKER
        if self.kind is Kind.RELATIVE:
            baseline = ""
            if self.baseline is not None:
                baseline = f"（{format_value(self.baseline, self.baseline_unit)}）"
            return f"対前年度{baseline}{comparator}"
        if self.is_number:
            number = format_value(self.value, self.unit)
            # Keep the branch's accounting minus when the text used one.
            if self.value < 0 and _ACCOUNTING_MINUS.search(self.text):
                number = "△" + number.removeprefix("-")
            note = f"（{self.note}）" if self.note else ""
            return f"{number}{comparator}{note}"
        if self.kind is Kind.QUALITATIVE:
            return self.note
        return self.text


def as_written(text: str | None) -> str:
    """A stored text as pages show it: as written, in half-width characters, `△` for minus.

    `95.0%` stays `95.0%` (its digits and decimals are the branch's), `９６．５％` → `96.5%`,
    `-2` / `▲2` / `－2` → `△2`; blank or a dash → `—`. Only full-width letters, digits and
    signs become half-width: unlike NFKC this keeps `①` and `㈱` in prose as written.
    """
    shown = re.sub(r"\s+", " ", (text or "").translate(_HALF_WIDTH)).strip()
    if shown == "" or _BLANK.fullmatch(shown):
        return "—"
    return _LEADING_MINUS.sub("△", shown)


def format_value(value: Decimal | None, unit: str) -> str:
    """Canonical text for a number: `-5件`, `95.3%`, `8,364円`, `4:56` (unit 分), `47位`.

    Keeps the given precision; groups thousands except for percentages.
    """
    if value is None:
        return ""
    if value == 0:
        value = abs(value)  # no "-0"
    if unit == DURATION_UNIT and value == value.to_integral_value():
        hours, minutes = divmod(int(abs(value)), 60)
        return f"{'-' if value < 0 else ''}{hours}:{minutes:02d}"
    return format(value, "f" if unit == "%" else ",f") + unit


def parse_target(text: str | int | float | Decimal | None) -> Reading:
    """Read a target: absolute (`96.5%以上`), relative (`対前年度（8,364円）以上`),
    qualitative (`効果的な意見発信の実施`), empty (`—`) or new (`【新設】`)."""
    if not isinstance(text, str | None):
        return _from_number(text)
    original, normalised = _prepare(text)
    if (blank := _blank(original, normalised)) is not None:
        return blank
    if normalised == NEW_MARKER:
        return Reading(original, Kind.NEW)

    body = _FOOTNOTE.sub("", _SUFFIX.sub("", normalised)).strip()
    if match := _RELATIVE.fullmatch(body):
        return _relative(original, match)

    body, note = _split_note(body)
    body, comparator = _split_comparator(body)
    reading = _number(original, body, note)
    if reading is not None:
        return replace(reading, comparator=comparator)
    return _prose(original, normalised, actual=False)


def parse_value(text: str | int | float | Decimal | None) -> Reading:
    """Read an actual, a previous actual, a national average or a monthly cell.

    Numbers as typed spreadsheet cells are accepted; floats go through `str()` so that
    0.1 stays 0.1.
    """
    if not isinstance(text, str | None):
        return _from_number(text)
    original, normalised = _prepare(text)
    if (blank := _blank(original, normalised)) is not None:
        return blank
    body, note = _split_note(_FOOTNOTE.sub("", normalised).strip())
    reading = _number(original, body, note)
    if reading is not None:
        return reading
    return _prose(original, normalised, actual=True)


def parse_rank(text: str | int | None) -> int | None:
    """`20位`, `20`, `２０位`, 20 -> 20. None when blank or unreadable (callers report it)."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if text >= 1 else None
    reading = parse_value(text)
    if reading.kind is Kind.RANK or (reading.kind is Kind.NUMBER and reading.unit == ""):
        value = reading.value
        if value == value.to_integral_value() and value >= 1:
            return int(value)
    return None


# --- internals -------------------------------------------------------------------------

_ACCOUNTING_MINUS = re.compile("[△▲]")
_LEADING_MINUS = re.compile(r"^[-▲](?=\s?\d)")
# Full-width ASCII forms (！ … ～), the ideographic space and the minus sign.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {
    0x3000: " ",
    0x2212: "-",
}
_SUFFIX = re.compile(r"\s*(?:とする|にする)。?$")
_FOOTNOTE = re.compile(r"\(\s*※\s*\d*\s*\)|※\d*")
_NOTE = re.compile(r"(?P<body>[^()]*?)\s*\((?P<note>[^()]*)\)")
_COMPARATOR = re.compile(r"(?P<body>.*?)\s*(?P<word>以上|以下)")
_BLANK = re.compile(r"[-‐‑–—―ー/]+")
_NO_KPI = re.compile(r"※?\s*(KPIの?設定なし)")

_DECIMAL = r"(?:[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*|0)(?:\.\d+)?"
_UNDER_10000 = r"(?:[1-9],\d{3}|[1-9]\d{0,3})"
_MAGNITUDE = (
    rf"(?:(?P<oku>{_DECIMAL})億(?:(?P<man_a>{_UNDER_10000})万)?(?P<rest_a>{_UNDER_10000})?"
    rf"|(?P<man_b>{_DECIMAL})万(?P<rest_b>{_UNDER_10000})?"
    rf"|(?P<plain>{_DECIMAL}))"
)
_SIGN = r"(?:(?P<sign>[-+])|(?P<minus>[△▲])\s?)?"
_VALUE = re.compile(rf"{_SIGN}{_MAGNITUDE}\s?(?P<unit>{'|'.join(re.escape(u) for u in UNITS)})?")
_DURATION = re.compile(rf"{_SIGN}(?P<hours>\d+):(?P<minutes>[0-5]\d)")
_RELATIVE = re.compile(
    r"対?前年度末?(?:実績)?\s?(?:\((?P<inner>[^()]*)\))?\s?(?P<word>以上|以下)?"
    r"\s?(?:\((?P<after>[^()]*)\))?"
)
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_STRUCTURAL = re.compile(
    "|".join(["対前年度", "前年度末", "前年度", "以上", "以下", "とする", "にする", *UNITS])
)


def _prepare(text: str | None) -> tuple[str, str]:
    """(original text, NFKC-normalised text with single spaces)."""
    if text is None:
        return "", ""
    normalised = unicodedata.normalize("NFKC", text).replace("\u2212", "-")
    return text, re.sub(r"\s+", " ", normalised).strip()


def _from_number(cell) -> Reading:
    """A typed spreadsheet cell (int, float, Decimal)."""
    if isinstance(cell, bool) or not isinstance(cell, int | float | Decimal):
        return Reading(str(cell), Kind.UNPARSED)
    try:
        value = Decimal(str(cell))
    except InvalidOperation:
        return Reading(str(cell), Kind.UNPARSED)
    if not value.is_finite():
        return Reading(str(cell), Kind.UNPARSED)
    return Reading(str(cell), Kind.NUMBER, value=_plain(value))


def _blank(original: str, normalised: str) -> Reading | None:
    if normalised == "" or _BLANK.fullmatch(normalised):
        return Reading(original, Kind.EMPTY)
    if match := _NO_KPI.fullmatch(normalised):
        return Reading(original, Kind.EMPTY, note=match[1])
    return None


def _split_note(body: str) -> tuple[str, str]:
    if (match := _NOTE.fullmatch(body)) and match["body"]:
        return match["body"], match["note"].strip()
    return body, ""


def _split_comparator(body: str) -> tuple[str, Comparator | None]:
    if match := _COMPARATOR.fullmatch(body):
        return match["body"], _COMPARATORS[match["word"]]
    return body, None


def _number(original: str, body: str, note: str) -> Reading | None:
    """A number, duration or rank, or None when `body` is none of them."""
    if match := _DURATION.fullmatch(body):
        minutes = int(match["hours"]) * 60 + int(match["minutes"])
        value = _signed(Decimal(minutes), match)
        return Reading(original, Kind.DURATION, value=value, unit=DURATION_UNIT, note=note)
    match = _VALUE.fullmatch(body)
    if match is None:
        return None
    value = _signed(_magnitude(match), match)
    unit = match["unit"] or ""
    if unit == RANK_UNIT:
        is_rank = match["plain"] and value == value.to_integral_value() and value >= 1
        if not is_rank or match["sign"] or match["minus"]:
            return None
        return Reading(original, Kind.RANK, value=value, unit=unit, note=note)
    kind = Kind.DURATION if unit == DURATION_UNIT else Kind.NUMBER
    return Reading(original, kind, value=value, unit=unit, note=note)


def _magnitude(match: re.Match) -> Decimal:
    if match["plain"]:
        return Decimal(match["plain"].replace(",", ""))
    parts = (
        (match["oku"], 8),
        (match["man_a"] or match["man_b"], 4),
        (match["rest_a"] or match["rest_b"], 0),
    )
    total = sum(Decimal(p.replace(",", "")).scaleb(exp) for p, exp in parts if p)
    return _plain(total)


def _signed(value: Decimal, match: re.Match) -> Decimal:
    negative = match["sign"] == "-" or match["minus"] is not None
    value = -value if negative else value
    return abs(value) if value == 0 else value


def _plain(value: Decimal) -> Decimal:
    """1.42E+8 -> 142000000, so that values print without exponents."""
    if value.as_tuple().exponent > 0 and value.adjusted() < 27:
        return value.quantize(Decimal(1))
    return value


def _relative(original: str, match: re.Match) -> Reading:
    comparator = _COMPARATORS.get(match["word"])
    if match["inner"] is not None and match["after"] is not None:
        return Reading(original, Kind.UNPARSED)
    inner = match["inner"] if match["inner"] is not None else match["after"]
    if inner is None:
        return Reading(original, Kind.RELATIVE, comparator=comparator)
    body, inner_comparator = _split_comparator(inner.strip())
    baseline = _number(original, body, "")
    if baseline is None or (comparator and inner_comparator and comparator != inner_comparator):
        return Reading(original, Kind.UNPARSED)
    return Reading(
        original,
        Kind.RELATIVE,
        comparator=comparator or inner_comparator,
        baseline=baseline.value,
        baseline_unit=baseline.unit,
    )


def _prose(original: str, normalised: str, *, actual: bool) -> Reading:
    """Qualitative text, or UNPARSED when it has digits (outside a trailing note such as
    `実施済（3月）`) or is only units and comparators."""
    body = _split_note(normalised)[0]
    if re.search(r"\d", body) or not _JAPANESE.search(_STRUCTURAL.sub("", body)):
        return Reading(original, Kind.UNPARSED)
    done = DONE_WORDS.get(body) if actual else None
    return Reading(original, Kind.QUALITATIVE, note=normalised, done=done)


# A workbook repeats a few thousand texts over tens of thousands of cells, and a Reading is
# immutable: the importer and the value check read each distinct text once per process.
read_value = functools.lru_cache(maxsize=1 << 16)(parse_value)
