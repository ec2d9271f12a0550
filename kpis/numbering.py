"""How plans number and name their parts: the three national pillars (区分) and measure
numbers (施策番号) as the branches write them.

Pure Python, no Django: the models, the importer and the data migrations use it.
"""

import re
import unicodedata

from kpis.vocabulary import CIRCLED

# The national pillars of the action plan, by number. Branches word them their own way
# (基盤的保険者機能関係, 基盤的保険者機能の盤石化, 保険者機能の強化を支える組織・運営体制等の
# 整備 …); a word of each name identifies it.
NATIONAL_PILLARS = {
    1: "基盤的保険者機能",
    2: "戦略的保険者機能",
    3: "組織・運営体制",
}
# Checked in this order: the third pillar's long names also say 保険者機能.
_PILLAR_WORDS = ((3, ("組織", "運営体制")), (1, ("基盤",)), (2, ("戦略",)))

ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9}
KANJI = dict(zip("一二三四五六七八九", range(1, 10), strict=True))
# Ⅰ..Ⅻ as single characters (NFKC would make Ⅱ two letters, moving positions).
ROMAN_CHARACTERS = {chr(0x2160 + i): i + 1 for i in range(12)}
# A pillar's leading number as plans write it: 1 / 1、 / １． / (1) / （１） / ① / Ⅰ / 一、 /
# 第1 (NFKC has made Ⅰ into I and （１） into (1); circled digits are read before NFKC).
_PILLAR_NUMBER = re.compile(
    r"第?\s*(?:\((?P<bracketed>\d{1,2}|[IVX]{1,4}|[一二三四五六七八九])\)"
    r"|(?P<digits>\d{1,2})(?![\d,])"
    r"|(?P<roman>[IVX]{1,4})(?![A-Za-z])"
    r"|(?P<kanji>[一二三四五六七八九])(?=[\s.、。,:）)]))"
    r"\s*[.、。,:)）\-]?\s*"
)


def split_pillar(text: str) -> tuple[int | None, str]:
    """`1、基盤的保険者機能関係` → (1, "基盤的保険者機能関係"); `（戦略的保険者機能）` →
    (None, "戦略的保険者機能"): the number written before a pillar's name, and the name."""
    text = text.strip()
    written = None
    if text[:1] in CIRCLED:
        written, text = CIRCLED[text[0]], text[1:]
    else:
        normal = unicodedata.normalize("NFKC", text)
        if match := _PILLAR_NUMBER.match(normal):
            number = next(value for value in match.groupdict().values() if value)
            written = _number(number)
            text = normal[match.end() :]
    name = text.strip(" \u3000.、。:：")
    if len(name) > 2 and name[0] in "(（【" and name[-1] in ")）】":
        name = name[1:-1].strip()
    return written, name


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    return KANJI.get(text) or ROMAN.get(text, 0)


def national_pillar_number(name: str) -> int | None:
    """The national pillar a branch's wording names, or None."""
    text = unicodedata.normalize("NFKC", name)
    for number, words in _PILLAR_WORDS:
        if any(word in text for word in words):
            return number
    return None


# One component of a measure number: a number in brackets, a bare number, a circled one or
# a Roman numeral (Ⅰ, after NFKC I).
_COMPONENT = re.compile(
    r"[(（]\s*(\d{1,3})\s*[)）]|(\d{1,3})[)）]?|(?<![A-Z])([IVX]{1,4})[)）]?(?![A-Za-z])|(["
    + "".join(CIRCLED)
    + "])|(["
    + "".join(ROMAN_CHARACTERS)
    + "])[)）]?"
)
_SEPARATORS = re.compile(r"[\s\-－‐―ー−.．、・]*")
_PREFIX = re.compile(r"(?:No\.?|NO\.?|no\.?|第)\s*")
SORT_KEY_WIDTH = 3
# A measure number is short; a title starting with one is split only within this length.
MAX_LABEL_LENGTH = 20


def measure_number_parts(label: str) -> tuple[int, ...] | None:
    """`(1)` → (1,); `(1)-1`, `1-1`, `(1)①`, `(１)－２` → (1, 1) / (1, 2); `1.`, `1)`, `①`,
    `Ⅱ`, `No.3` too; None if unreadable."""
    found = _read_number(label.strip())
    if found is None or found[1] != len(label.strip()):
        return None
    return found[0]


def _read_number(text: str) -> tuple[tuple[int, ...], int] | None:
    """The measure number at the start of `text`: (parts, characters read), or None.

    Circled digits are read before NFKC, which would turn them into plain digits; every
    other character is normalised on its own, so positions stay those of `text`."""
    normal = "".join(
        ch
        if ch in CIRCLED or ch in ROMAN_CHARACTERS or len(unicodedata.normalize("NFKC", ch)) != 1
        else unicodedata.normalize("NFKC", ch)
        for ch in text
    )
    parts, end = [], 0
    if prefix := _PREFIX.match(normal):
        end = prefix.end()
    while end < len(normal):
        start = _SEPARATORS.match(normal, end).end() if parts else end
        match = _COMPONENT.match(normal, start)
        if match is None:
            break
        if match[5]:
            parts.append(ROMAN_CHARACTERS[match[5]])
        elif match[4]:
            parts.append(CIRCLED[match[4]])
        elif match[3]:
            if match[3] not in ROMAN:
                break
            parts.append(ROMAN[match[3]])
        else:
            parts.append(int(match[1] or match[2]))
        end = match.end()
    while end < len(normal) and normal[end] in ".．":
        end += 1
    if not parts or 0 in parts or len(parts) > 4:
        return None
    return tuple(parts), end


def measure_sort_key(label: str) -> str | None:
    """The key measures sort and match by: `(1)-2` → "001.002"; None if unreadable."""
    parts = measure_number_parts(label)
    if parts is None:
        return None
    return ".".join(f"{part:0{SORT_KEY_WIDTH}d}" for part in parts)


def split_measure_number(text: str) -> tuple[str, str] | None:
    """`(1) 健全な財政運営` → ("(1)", "健全な財政運営"); `1. 健全な…` → ("1.", "健全な…"):
    a title written after its number. None when the text does not start with a number
    followed by a space or a separator (`3部位以上…` is a title)."""
    text = text.strip()
    found = _read_number(text[: MAX_LABEL_LENGTH + 1])
    if found is None:
        return None
    end = found[1]
    label, rest = text[:end].strip(), text[end:]
    closed = label[-1:] in ")）.．" or label[-1:] in CIRCLED or not label[-1:].isdigit()
    if not rest.strip() or not (closed or rest[:1].isspace() or rest[:1] in "、，,:："):
        return None
    return label, rest.strip(" \u3000、，,:：")
