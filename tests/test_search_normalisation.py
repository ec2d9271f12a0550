"""The KPI table's keyword search finds a text however either side is typed: full or half
width, hiragana or katakana, upper or lower case, a long-vowel mark or a hyphen."""

import unicodedata
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from kpis.search import matching, normalise
from tests import factories


class IndicatorCells(HTMLParser):
    """The indicator names of the table's rows, as the page renders them."""

    def __init__(self):
        super().__init__()
        self.names, self._inside = [], False

    def handle_starttag(self, tag, attrs):
        if tag == "td" and ("class", "indicator") in attrs:
            self._inside = True
            self.names.append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self._inside = False

    def handle_data(self, data):
        if self._inside:
            self.names[-1] += data.strip()


def shown(client, query: str) -> set[str]:
    response = client.get("/kpis/", {"q": query})
    assert response.status_code == 200
    parser = IndicatorCells()
    parser.feed(response.content.decode())
    return set(parser.names)


@pytest.fixture
def reader(client, admin):
    year = factories.FiscalYearFactory(start_year=2023)
    generic = factories.MeasureFactory(fiscal_year=year, title="ジェネリック医薬品の使用促進")
    other = factories.MeasureFactory(fiscal_year=year, title="健診の推進")
    rows = [
        (generic, "使用割合（数量）", "96.5%"),
        (other, "健診実施率", "９６．５％"),
        (other, "ジェネリック医薬品使用割合（金額）", "80.1%"),
        (other, "ｼﾞｪﾈﾘｯｸ医薬品の周知回数", "3回"),
        (other, "じぇねりっく相談件数", "12件"),
        (other, "ＷＥＢ申請率", "40.0%"),
        (other, "デ―タヘルス計画の評価", "済"),
        (other, "特定保健指導実施率", "12.0%"),
    ]
    for measure, name, actual in rows:
        factories.KpiFactory(
            measure=measure,
            indicator=factories.IndicatorFactory(name=name),
            target_text="前年度以上",
            actual_text=actual,
        )
    client.force_login(admin)
    return client


pytestmark = pytest.mark.django_db

SAME_PERCENT = {"使用割合（数量）", "健診実施率"}
GENERIC = {
    "使用割合（数量）",  # its measure's title
    "ジェネリック医薬品使用割合（金額）",
    "ｼﾞｪﾈﾘｯｸ医薬品の周知回数",
    "じぇねりっく相談件数",
}


@pytest.mark.parametrize("query", ["96.5%", "９６．５％", "96.5％"])
def test_full_and_half_width_figures_find_each_other(reader, query):
    assert shown(reader, query) == SAME_PERCENT


@pytest.mark.parametrize("query", ["ジェネリック", "ｼﾞｪﾈﾘｯｸ", "じぇねりっく"])
def test_half_width_katakana_and_hiragana_find_the_katakana_and_back(reader, query):
    assert shown(reader, query) == GENERIC


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("web", {"ＷＥＢ申請率"}),
        ("ｗｅｂ申請", {"ＷＥＢ申請率"}),
        ("データヘルス", {"デ―タヘルス計画の評価"}),
        ("デ-タ", {"デ―タヘルス計画の評価"}),
        ("ｼﾞｪﾈﾘｯｸ　９６．５％", {"使用割合（数量）"}),  # every word, full-width space
    ],
)
def test_case_dashes_and_several_words(reader, query, expected):
    assert shown(reader, query) == expected


def test_search_reads_the_database_as_often_however_typed_and_however_many_rows(reader):
    def queries(query):
        with CaptureQueriesContext(connection) as context:
            reader.get("/kpis/", {"q": query})
        return len(context)

    counts = {queries(query) for query in ("96.5%", "９６．５％", "ｼﾞｪﾈﾘｯｸ", "じぇねりっく")}
    for _ in range(20):
        factories.KpiFactory(target_text="前年度以上", actual_text="９６．５％")
    counts.add(queries("96.5%"))
    assert len(counts) == 1


def test_a_word_matches_inside_one_text_not_across_two():
    rows = [(1, "健診", "実施率"), (2, "健診実施率", "")]
    assert matching(rows, [normalise("健診実施")]) == [2]
    assert matching(rows, [normalise("健診"), normalise("実施率")]) == [1, 2]


# Properties of normalise over generated text.
ASCII = [chr(code) for code in range(0x21, 0x7F)]
FULL_WIDTH = {char: chr(ord(char) + 0xFEE0) for char in ASCII}
# Half-width katakana and the full-width letter each stands for (voiced ones as two signs).
HALF_WIDTH_KANA = {
    unicodedata.normalize("NFKC", half): half
    for half in [chr(code) for code in range(0xFF66, 0xFF9E)]
    + [chr(code) + "\uff9e" for code in range(0xFF76, 0xFF8F)]
    + [chr(code) + "\uff9f" for code in range(0xFF8A, 0xFF8F)]
}
KATAKANA = [kana for kana in HALF_WIDTH_KANA if len(kana) == 1 and "ァ" <= kana <= "ヶ"]


@st.composite
def written_twice(draw):
    """The same words written two ways: (as stored, as typed in the search box)."""
    pieces = draw(
        st.lists(st.sampled_from([*ASCII, *KATAKANA, " ", "ー", "率", "件"]), max_size=20)
    )
    stored, typed = [], []
    for piece in pieces:
        stored.append(piece)
        forms = [piece]
        if piece in FULL_WIDTH:
            forms.append(FULL_WIDTH[piece])
        if piece in HALF_WIDTH_KANA:
            forms.append(HALF_WIDTH_KANA[piece])
        if piece in KATAKANA:
            forms.append(chr(ord(piece) - 0x60))  # hiragana
        if piece == " ":
            forms.append("\u3000 ")
        typed.append(draw(st.sampled_from(forms)))
    return "".join(stored), "".join(typed)


@settings(max_examples=100, deadline=None)
@given(written_twice())
def test_width_and_kana_do_not_change_the_searchable_form(case):
    stored, typed = case
    assert normalise(stored) == normalise(typed)
    assert normalise(stored.upper()) == normalise(stored.lower())


@settings(max_examples=100, deadline=None)
@given(
    st.text(
        st.one_of(st.characters(), st.sampled_from("あアｱ-－ー―‐ｰ〜～ 　Ａａ９％ǰß")), max_size=30
    )
)
def test_normalise_is_idempotent(text):
    assert normalise(normalise(text)) == normalise(text)


@settings(max_examples=100, deadline=None)
@given(written_twice())
def test_normalised_text_finds_itself(case):
    stored, typed = case
    assert matching([(1, stored)], [word for word in normalise(typed).split(" ") if word]) == [1]
