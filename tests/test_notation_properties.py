"""Properties of reading and evaluating, over generated inputs."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kpis.evaluation import Direction, evaluate
from kpis.notation import Comparator, Kind, Reading, parse_target, parse_value

FULL_WIDTH = str.maketrans("0123456789,.%:-", "０１２３４５６７８９，．％：－")
NUMBER_UNITS = ["", "%", "円", "千円", "事業所", "件", "人", "日", "機関", "回", "名", "社"]


def grouped(digits: str) -> str:
    return f"{int(digits):,}"


@st.composite
def written_numbers(draw):
    """(text, expected value, unit) in the ways documents and cells write numbers."""
    integer = draw(st.integers(min_value=0, max_value=10**12))
    fraction = draw(st.text(alphabet="0123456789", max_size=4))
    negative = draw(st.booleans())
    minus = draw(st.sampled_from(["-", "△", "△ ", "▲", "▲ ", "\u2212"]))
    unit = draw(st.sampled_from(NUMBER_UNITS))
    body = grouped(str(integer)) if draw(st.booleans()) else str(integer)
    if fraction:
        body += "." + fraction
    text = (minus if negative else "") + body + (" " if draw(st.booleans()) else "") + unit
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    expected = Decimal(f"{integer}.{fraction}" if fraction else str(integer))
    return text, (-expected if negative else expected), unit


@given(written_numbers())
def test_number_formats_read_the_same_decimal(case):
    text, expected, unit = case
    reading = parse_value(text)
    assert reading.kind is Kind.NUMBER
    assert reading.value == expected
    assert reading.unit == unit
    assert reading.text == text


@given(written_numbers())
def test_display_reads_back_to_the_same_value(case):
    reading = parse_value(case[0])
    again = parse_value(reading.display())
    assert (again.value, again.unit) == (reading.value, reading.unit)
    # Precision as written survives (94.0 stays 94.0).
    assert abs(again.value).as_tuple() == abs(reading.value).as_tuple()


@given(st.integers(min_value=0, max_value=999), st.integers(min_value=0, max_value=59))
def test_durations(hours, minutes):
    for text in (f"{hours}:{minutes:02d}", f"{hours}:{minutes:02d}".translate(FULL_WIDTH)):
        reading = parse_value(text)
        assert (reading.kind, reading.value, reading.unit) == (
            Kind.DURATION,
            hours * 60 + minutes,
            "分",
        )
        assert reading.display() == f"{hours}:{minutes:02d}"


@given(st.integers(min_value=1, max_value=10**6))
def test_ranks(rank):
    assert parse_value(f"{rank}位").value == rank
    assert parse_value(f"{rank}位".translate(FULL_WIDTH)).kind is Kind.RANK


decimals = st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=3)


def number(value: Decimal, comparator: Comparator | None = None) -> Reading:
    return Reading(str(value), Kind.NUMBER, value=value, unit="%", comparator=comparator)


@given(decimals, decimals)
def test_comparator_symmetry(a, b):
    """An at-least target a met by b iff an at-most target b met by a; same margin."""
    at_least = evaluate(number(a, Comparator.AT_LEAST), number(b))
    at_most = evaluate(number(b, Comparator.AT_MOST), number(a))
    assert at_least.achieved == at_most.achieved == (b >= a)
    assert at_least.margin == at_most.margin
    assert at_least.suggested_mark == at_most.suggested_mark
    if at_least.margin is not None:
        assert (at_least.margin >= 0) == at_least.achieved


@given(decimals, decimals)
def test_bare_target_follows_direction(a, b):
    higher = evaluate(number(a), number(b), Direction.HIGHER)
    lower = evaluate(number(a), number(b), Direction.LOWER)
    assert higher.achieved == (b >= a)
    assert lower.achieved == (b <= a)


@given(decimals, decimals)
def test_the_same_through_text(a, b):
    target = parse_target(f"{a}%以上")
    actual = parse_value(f"{b}%")
    assert evaluate(target, actual).achieved == (b >= a)


texts = st.one_of(
    st.text(),
    st.text(alphabet="0123456789,.%:-△▲ 　()（）※以上下対前年度末位円件千万億実施未達成【新設】—"),
)


@given(texts, texts, texts, texts, st.sampled_from(list(Direction)))
def test_evaluate_never_raises_for_arbitrary_text(target, actual, previous, stored, direction):
    result = evaluate(
        parse_target(target),
        parse_value(actual),
        direction,
        previous_actual=parse_value(previous),
        stored_previous_actual=parse_value(stored),
    )
    assert result.suggested_mark in ("◎", "○", "△", "×", "—")
    if result.achieved is None:
        assert result.suggested_mark == "—"


@given(texts)
def test_parsing_keeps_the_text_and_never_guesses_a_mark_as_a_number(text):
    for reading in (parse_target(text), parse_value(text)):
        assert reading.text == text
        if reading.is_number:
            again = parse_value(reading.display().removesuffix("以上").removesuffix("以下"))
            assert again.value == reading.value
    if text.strip() in ("△", "▲"):
        assert not parse_value(text).is_number


@given(texts)
def test_target_display_reads_back_the_same(text):
    reading = parse_target(text)
    again = parse_target(reading.display())
    fields = ("kind", "value", "unit", "comparator", "baseline", "baseline_unit")
    assert [getattr(again, f) for f in fields] == [getattr(reading, f) for f in fields]
