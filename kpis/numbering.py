"""How plans number and name their parts: the three national pillars (区分) and measure
numbers (施策番号) as the branches write them.

Pure Python, no Django: the models, the importer and the data migrations use it.
"""

import re
import unicodedata

from kpis.vocabulary import CIRCLED

# The national pillars of the action plan, by number. Branches word them their own way
# (基盤的保険者機能関係, 基盤的保険者機能の盤石化 …); a word of each name identifies it.
NATIONAL_PILLARS = {
    1: "基盤的保険者機能",
    2: "戦略的保険者機能",
    3: "組織・運営体制",
}
# Checked in this order: the third pillar's long names also say 保険者機能.
_PILLAR_WORDS = ((3, ("組織", "運営体制")), (1, ("基盤",)), (2, ("戦略",)))


def national_pillar_number(name: str) -> int | None:
    """The national pillar a branch's wording names, or None."""
    text = unicodedata.normalize("NFKC", name)
    for number, words in _PILLAR_WORDS:
        if any(word in text for word in words):
            return number
    return None


# One component of a measure number: a number in brackets, a bare number or a circled one.
_COMPONENT = re.compile(r"[(（]\s*(\d{1,3})\s*[)）]|(\d{1,3})|([" + "".join(CIRCLED) + "])")
_SEPARATORS = re.compile(r"[\s\-－‐―ー−.．、・]*")
SORT_KEY_WIDTH = 3


def measure_number_parts(label: str) -> tuple[int, ...] | None:
    """`(1)` → (1,); `(1)-1`, `1-1`, `(1)①`, `(１)－２` → (1, 1) / (1, 2); None if unreadable.

    Circled digits are read before NFKC, which would turn them into plain digits.
    """
    text = "".join(
        f"({CIRCLED[ch]})" if ch in CIRCLED else unicodedata.normalize("NFKC", ch)
        for ch in label.strip()
    )
    parts, end = [], 0
    while end < len(text):
        start = _SEPARATORS.match(text, end).end() if parts else end
        match = _COMPONENT.match(text, start)
        if match is None:
            break
        parts.append(int(match[1] or match[2]))
        end = match.end()
    if not parts or end != len(text.rstrip(".．")) or 0 in parts or len(parts) > 4:
        return None
    return tuple(parts)


def measure_sort_key(label: str) -> str | None:
    """The key measures sort and match by: `(1)-2` → "001.002"; None if unreadable."""
    parts = measure_number_parts(label)
    if parts is None:
        return None
    return ".".join(f"{part:0{SORT_KEY_WIDTH}d}" for part in parts)
