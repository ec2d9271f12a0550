"""Keyword search that ignores how a text happens to be typed.

Branches write the same thing in several ways: `９６．５％` and `96.5%`, `ｼﾞｪﾈﾘｯｸ`,
ジェネリック and じぇねりっく, `データ` with a long-vowel mark or a hyphen. `normalise` brings
a text to one form (NFKC, case folded, hiragana as katakana, one dash, single spaces);
the search applies it to the query and to the stored texts alike, so either form finds
the other. Pure: no Django import.
"""

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# Hiragana ぁ–ゖ and the iteration marks ゝゞ → their katakana (the same letters 0x60 higher);
# the wave dash and the full-width tilde (after NFKC `~`) are one sign.
_KANA = {code: code + 0x60 for code in range(0x3041, 0x3097)} | {0x309D: 0x30FD, 0x309E: 0x30FE}
_FOLD = str.maketrans(_KANA | {0x301C: "~", 0x3030: "~"})
# Dashes after NFKC: hyphen-minus, hyphen, non-breaking hyphen, figure dash, en dash, em dash,
# horizontal bar, minus sign, katakana long-vowel mark (`－` and `ｰ` are folded by NFKC).
_DASH_RUN = re.compile("[-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc]+")
_SPACES = re.compile(r"\s+")


def normalise(text: str | None) -> str:
    """One searchable form of `text`: `９６．５％` → `96.5%`, `ｼﾞｪﾈﾘｯｸ` and `じぇねりっく` →
    `ジェネリック`, `ABC` → `abc`, `デ-タ` → `データ`, `Ａ　 Ｂ` → `a b`.

    A dash right after katakana is the long-vowel mark (ー), any other dash is `-`.
    Idempotent: normalise(normalise(x)) == normalise(x).
    """
    if not text:
        return ""
    # NFKC again after case folding: folding can leave a decomposed letter (ǰ → j + ̌).
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    folded = _DASH_RUN.sub(_dash, folded.translate(_FOLD))
    return _SPACES.sub(" ", folded).strip()


def _dash(run: re.Match) -> str:
    start = run.start()
    after_katakana = start > 0 and "\u30a1" <= run.string[start - 1] <= "\u30fa"
    return ("ー" if after_katakana else "-") * (run.end() - start)


def words(query: str) -> list[str]:
    """The query's words in searchable form; every one of them must match."""
    normalised = normalise(query)
    return normalised.split(" ") if normalised else []


def matching(rows: Iterable[tuple], query_words: list[str]) -> list:
    """The first item (an id) of each `(id, text, text, …)` row where every word is found,
    each word inside one of the row's texts.

    Rows share most of their texts (indicator, measure, branch, targets written alike): each
    distinct text is normalised and tested once, then rows are matched on the texts they hold.
    """
    rows = list(rows)
    texts = set()
    for row in rows:
        texts.update(row[1:])
    texts.discard(None)
    for word in query_words:
        holding = {text for text in texts if word in _normalised(text)}
        # A row's id is no text: never in `holding`.
        rows = [row for row in rows if not holding.isdisjoint(row)]
    return [row[0] for row in rows]


@lru_cache(maxsize=32768)
def _normalised(text: str) -> str:
    # Keyed on the text itself, so a changed text is never served stale; a year of the
    # national KPI table holds a few thousand distinct texts.
    return normalise(text)
