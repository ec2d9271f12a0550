"""Japanese era names for fiscal years (年度), which start in April.

A fiscal year is named by the era in force on its first day, except that FY2019 — which
began on 1 April 2019, still 平成31年 — is conventionally called 令和元年度; both names are
read, and 令和元年度 is written.
"""

import re
import unicodedata

# (era, first fiscal year named in it); newest first.
ERAS = [("令和", 2019), ("平成", 1989), ("昭和", 1926)]
ERA_INITIALS = {"R": "令和", "H": "平成", "S": "昭和"}

FISCAL_MONTHS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)


def era_label(start_year: int) -> str:
    """2023 → 令和5年度, 2019 → 令和元年度, 2018 → 平成30年度."""
    for era, first in ERAS:
        if start_year >= first:
            number = start_year - first + 1
            return f"{era}{'元' if number == 1 else number}年度"
    return f"{start_year}年度"


def era_short(start_year: int) -> str:
    """2023 → R5, 2018 → H30 (the short form used in document notes such as R6.2現在)."""
    for era, first in ERAS:
        if start_year >= first:
            initial = next(k for k, v in ERA_INITIALS.items() if v == era)
            return f"{initial}{start_year - first + 1}"
    return str(start_year)


_WESTERN = re.compile(r"^(?:FY)?(\d{4})(?:年度?)?$")
_ERA = re.compile(r"^(令和|平成|昭和|[RHS])(元|\d{1,2})(?:年度?)?$")


# Both names of one year: 令和6年度（2024年度）, 2024（令和6）年度, 平成31年度/令和元年度.
_BOTH = re.compile(r"^([^()/]+?)(?:年度)?(?:\(([^()]+)\)|/([^()/]+))(年度?)?$")


def parse_fiscal_year(text) -> int | None:
    """Read a fiscal year written as 2023, FY2023, 2023年度, 令和5年度, R5, 令和元年度,
    平成31年度, H31, or both ways (令和6年度（2024年度）, 2024（令和6）年度, H31/R1) when they
    agree.

    Returns the western start year, or None when the text is not a fiscal year.
    """
    if text is None:
        return None
    if isinstance(text, int):
        return text if 1926 <= text <= 2100 else None
    if isinstance(text, float):
        return int(text) if text.is_integer() and 1926 <= text <= 2100 else None
    normal = unicodedata.normalize("NFKC", str(text)).strip().upper().replace(" ", "")
    if match := _BOTH.match(normal):
        first, second = match[1], match[2] or match[3]
        years = {_parse_one(first), _parse_one(second)}
        return years.pop() if len(years) == 1 else None
    return _parse_one(normal)


def _parse_one(normal: str) -> int | None:
    if match := _WESTERN.match(normal):
        year = int(match.group(1))
        return year if 1926 <= year <= 2100 else None
    if match := _ERA.match(normal):
        era = ERA_INITIALS.get(match.group(1), match.group(1))
        number = 1 if match.group(2) == "元" else int(match.group(2))
        if number < 1:
            return None
        # 平成31年度 is FY2019 (平成 ended in April 2019); 平成32 and later never existed.
        if era == "平成" and number > 31 or era == "昭和" and number > 63:
            return None
        first = dict(ERAS)[era]
        return first + number - 1
    return None
