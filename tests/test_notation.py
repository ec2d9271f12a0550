"""Every target and actual string in the seed documents, read as a branch officer would."""

from dataclasses import FrozenInstanceError
from decimal import Decimal

import pytest

from kpis.notation import (
    Comparator,
    Kind,
    Reading,
    format_value,
    parse_rank,
    parse_target,
    parse_value,
)

GE, LE = Comparator.AT_LEAST, Comparator.AT_MOST


def expect(kind, value=None, unit="", comparator=None, baseline=None, baseline_unit="", note=""):
    return {
        "kind": kind,
        "value": value,
        "unit": unit,
        "comparator": comparator,
        "baseline": baseline,
        "baseline_unit": baseline_unit,
        "note": note,
    }


def check(reading: Reading, text, expected):
    assert reading.text == (text if isinstance(text, str) else str(text))
    actual = {field: getattr(reading, field) for field in expected}
    for field in ("value", "baseline"):
        # Compare as strings so that the written precision (94.0, 0.310) is kept too.
        actual[field] = None if actual[field] is None else str(actual[field])
    assert actual == expected


NUMBER, RELATIVE = Kind.NUMBER, Kind.RELATIVE
TARGETS = [
    # Seed 000 (埼玉 令和5年度), KPI 目標 column.
    ("—", expect(Kind.EMPTY)),
    ("100%", expect(NUMBER, "100", "%")),
    ("96.5%以上", expect(NUMBER, "96.5", "%", GE)),
    ("0.94%以下", expect(NUMBER, "0.94", "%", LE)),
    ("0.310%以上", expect(NUMBER, "0.310", "%", GE)),
    ("8,364円以上", expect(NUMBER, "8364", "円", GE)),
    ("85.38%以上", expect(NUMBER, "85.38", "%", GE)),
    ("60.24%以上", expect(NUMBER, "60.24", "%", GE)),
    ("94.0%", expect(NUMBER, "94.0", "%")),
    ("53.8%以上", expect(NUMBER, "53.8", "%", GE)),
    ("18.0%以上", expect(NUMBER, "18.0", "%", GE)),
    ("29.3%以上", expect(NUMBER, "29.3", "%", GE)),
    ("36.9%以上", expect(NUMBER, "36.9", "%", GE)),
    ("15.1%以上", expect(NUMBER, "15.1", "%", GE)),
    ("13.1%以上", expect(NUMBER, "13.1", "%", GE)),
    ("1,170事業所以上", expect(NUMBER, "1170", "事業所", GE)),
    ("44.0%以上", expect(NUMBER, "44.0", "%", GE)),
    ("81.9%以上", expect(NUMBER, "81.9", "%", GE)),
    ("20%以下", expect(NUMBER, "20", "%", LE)),
    ("効果的な意見発信の実施", expect(Kind.QUALITATIVE, note="効果的な意見発信の実施")),
    # Seed 000, relative targets as the KPI sentences write them.
    ("対前年度以下", expect(RELATIVE, comparator=LE)),
    ("前年度（0.310%）以上", expect(RELATIVE, comparator=GE, baseline="0.310", baseline_unit="%")),
    (
        "対前年度（8,364円）以上",
        expect(RELATIVE, comparator=GE, baseline="8364", baseline_unit="円"),
    ),
    (
        "対前年度（85.38%）以上",
        expect(RELATIVE, comparator=GE, baseline="85.38", baseline_unit="%"),
    ),
    (
        "対前年度（60.24%）以上",
        expect(RELATIVE, comparator=GE, baseline="60.24", baseline_unit="%"),
    ),
    ("前年度（81.9%）以上", expect(RELATIVE, comparator=GE, baseline="81.9", baseline_unit="%")),
    # Seed 002 (千葉 令和6年度案) KPI list: R6 KPI (bold parts), R5 KPI columns.
    ("※KPIの設定なし", expect(Kind.EMPTY, note="KPIの設定なし")),
    ("-", expect(Kind.EMPTY)),
    ("対前年度以上", expect(RELATIVE, comparator=GE)),
    ("55.8%以上", expect(NUMBER, "55.8", "%", GE)),
    ("3.7%以上", expect(NUMBER, "3.7", "%", GE)),
    ("28.3%以上", expect(NUMBER, "28.3", "%", GE)),
    ("19.4%以上", expect(NUMBER, "19.4", "%", GE)),
    ("5.5%以上", expect(NUMBER, "5.5", "%", GE)),
    ("1,690事業所（※）以上", expect(NUMBER, "1690", "事業所", GE)),
    ("42.5%以上", expect(NUMBER, "42.5", "%", GE)),
    ("96.4%以上", expect(NUMBER, "96.4", "%", GE)),
    ("【新設】", expect(Kind.NEW)),
    ("64.2%以上", expect(NUMBER, "64.2", "%", GE)),
    ("8.2%以上", expect(NUMBER, "8.2", "%", GE)),
    ("36.4%以上", expect(NUMBER, "36.4", "%", GE)),
    ("35.6%以上", expect(NUMBER, "35.6", "%", GE)),
    ("16.2%以上", expect(NUMBER, "16.2", "%", GE)),
    ("1,130事業所以上", expect(NUMBER, "1130", "事業所", GE)),
    ("40.0%", expect(NUMBER, "40.0", "%")),
    ("", expect(Kind.EMPTY)),
    # Seed 002, the national plan's KPIs in the body text.
    ("64.8%以上", expect(NUMBER, "64.8", "%", GE)),
    ("9.2%以上", expect(NUMBER, "9.2", "%", GE)),
    ("32.9%以上", expect(NUMBER, "32.9", "%", GE)),
    ("110,000 事業所（※）以上", expect(NUMBER, "110000", "事業所", GE)),
    ("80%以上", expect(NUMBER, "80", "%", GE)),
    ("80%(※3)以上", expect(NUMBER, "80", "%", GE)),
    ("25%(※4)以上", expect(NUMBER, "25", "%", GE)),
    ("18%(※4)以上", expect(NUMBER, "18", "%", GE)),
    ("1億4,200万以上", expect(NUMBER, "142000000", "", GE)),
    ("50%以上", expect(NUMBER, "50", "%", GE)),
    ("15%以下", expect(NUMBER, "15", "%", LE)),
    ("前年度以上", expect(RELATIVE, comparator=GE)),
    # Seed 003 (群馬 令和5年度) 【KPI】 lines, target part with its suffix.
    ("100%とする", expect(NUMBER, "100", "%")),
    ("97.0%以上とする", expect(NUMBER, "97.0", "%", GE)),
    ("対前年度以上とする", expect(RELATIVE, comparator=GE)),
    ("67.0%以上 とする", expect(NUMBER, "67.0", "%", GE)),
    ("66.6%以上とする", expect(NUMBER, "66.6", "%", GE)),
    ("10.3%以上とする", expect(NUMBER, "10.3", "%", GE)),
    ("30.8%以上とする", expect(NUMBER, "30.8", "%", GE)),
    ("38.0%以上とする", expect(NUMBER, "38.0", "%", GE)),
    ("8.0%以上とする", expect(NUMBER, "8.0", "%", GE)),
    ("13.1%以上とする。", expect(NUMBER, "13.1", "%", GE)),
    ("1,200事業所以上とする", expect(NUMBER, "1200", "事業所", GE)),
    ("56.0%以上とする", expect(NUMBER, "56.0", "%", GE)),
    ("20%以下とする", expect(NUMBER, "20", "%", LE)),
    # DESIGN.md notation table and the issue.
    ("前年度(0.54％)以下", expect(RELATIVE, comparator=LE, baseline="0.54", baseline_unit="%")),
    ("前年度末（82.4％）以上", expect(RELATIVE, comparator=GE, baseline="82.4", baseline_unit="%")),
    (
        "対前年度以上（0.334%以上）",
        expect(RELATIVE, comparator=GE, baseline="0.334", baseline_unit="%"),
    ),
    (
        "対前年度（0.334%以上）",
        expect(RELATIVE, comparator=GE, baseline="0.334", baseline_unit="%"),
    ),
    ("対前年度", expect(RELATIVE)),
    ("９６．５％以上", expect(NUMBER, "96.5", "%", GE)),
    ("  96.5%以上  ", expect(NUMBER, "96.5", "%", GE)),
    ("－", expect(Kind.EMPTY)),
    ("―", expect(Kind.EMPTY)),
    ("　", expect(Kind.EMPTY)),
    ("10位以上", expect(Kind.RANK, "10", "位", GE)),
    ("4:56以下", expect(Kind.DURATION, "296", "分", LE)),
]

UNREADABLE_TARGETS = [
    "96.5%以上以上",
    "abc",
    "1.2.3%",
    "%",
    "以上",
    "対前年度以上（0.334%以下）",  # the bracket contradicts the comparator
    "対前年度（実施）以上",
    "生活習慣病予防健診実施率を53.8%以上とする",  # a whole sentence: the importer extracts
    "96.5%未満",  # strict comparators are not in the model; do not guess
    "8,364円以上 8,000円以上",
]


@pytest.mark.parametrize(("text", "expected"), TARGETS)
def test_parse_target(text, expected):
    check(parse_target(text), text, expected)


@pytest.mark.parametrize("text", UNREADABLE_TARGETS)
def test_unreadable_target_is_unparsed_and_keeps_its_text(text):
    reading = parse_target(text)
    assert reading.kind is Kind.UNPARSED
    assert reading.text == text
    assert reading.value is None


VALUES = [
    # Seed 000, KPI 結果 column.
    ("—", expect(Kind.EMPTY)),
    ("100%", expect(NUMBER, "100", "%")),
    ("96.5%", expect(NUMBER, "96.5", "%")),
    ("0.83% (R6.2現在)", expect(NUMBER, "0.83", "%", note="R6.2現在")),
    ("0.423%", expect(NUMBER, "0.423", "%")),
    ("10,123円", expect(NUMBER, "10123", "円")),
    ("80.15%", expect(NUMBER, "80.15", "%")),
    ("66.62%", expect(NUMBER, "66.62", "%")),
    ("85.8%", expect(NUMBER, "85.8", "%")),
    ("42.6%", expect(NUMBER, "42.6", "%")),
    ("4.4%", expect(NUMBER, "4.4", "%")),
    ("13.9%", expect(NUMBER, "13.9", "%")),
    ("6.1%", expect(NUMBER, "6.1", "%")),
    ("14.3%", expect(NUMBER, "14.3", "%")),
    ("893事業所", expect(NUMBER, "893", "事業所")),
    ("44.1%", expect(NUMBER, "44.1", "%")),
    ("82.9% (R5.11診療)", expect(NUMBER, "82.9", "%", note="R5.11診療")),
    ("6.7%", expect(NUMBER, "6.7", "%")),
    (
        "病床機能報告定量基準分析結果に対して意見発信",
        expect(Kind.QUALITATIVE, note="病床機能報告定量基準分析結果に対して意見発信"),
    ),
    # Seed 002 KPI list, R4年度実績 column.
    ("-", expect(Kind.EMPTY)),
    ("96.1%", expect(NUMBER, "96.1", "%")),
    ("8,167円", expect(NUMBER, "8167", "円")),
    ("85.45%", expect(NUMBER, "85.45", "%")),
    ("62.9%", expect(NUMBER, "62.9", "%")),
    ("3.6%", expect(NUMBER, "3.6", "%")),
    ("24.7%", expect(NUMBER, "24.7", "%")),
    ("14.1%", expect(NUMBER, "14.1", "%")),
    ("4.2%", expect(NUMBER, "4.2", "%")),
    ("9.2%", expect(NUMBER, "9.2", "%")),
    ("1,160事業所", expect(NUMBER, "1160", "事業所")),
    ("81.9%", expect(NUMBER, "81.9", "%")),
    ("37.6%", expect(NUMBER, "37.6", "%")),
    ("", expect(Kind.EMPTY)),
    # Seed 003 monthly tables, national averages and ranks.
    ("2,657", expect(NUMBER, "2657")),
    ("37,478", expect(NUMBER, "37478")),
    ("41,873", expect(NUMBER, "41873")),
    ("8.21", expect(NUMBER, "8.21")),
    ("6.70", expect(NUMBER, "6.70")),
    ("95.5%", expect(NUMBER, "95.5", "%")),
    ("88,068", expect(NUMBER, "88068")),
    ("0.96", expect(NUMBER, "0.96")),
    ("1.00", expect(NUMBER, "1.00")),
    ("0.174%", expect(NUMBER, "0.174", "%")),
    ("0.179%", expect(NUMBER, "0.179", "%")),
    ("0.251%", expect(NUMBER, "0.251", "%")),
    ("3,788", expect(NUMBER, "3788")),
    ("94.18%", expect(NUMBER, "94.18", "%")),
    ("85.15%", expect(NUMBER, "85.15", "%")),
    ("4.57%", expect(NUMBER, "4.57", "%")),
    ("82.10%", expect(NUMBER, "82.10", "%")),
    ("53.29%", expect(NUMBER, "53.29", "%")),
    ("49.48%", expect(NUMBER, "49.48", "%")),
    ("55.41% (支部集計)", expect(NUMBER, "55.41", "%", note="支部集計")),
    ("0", expect(NUMBER, "0")),
    ("1,053", expect(NUMBER, "1053")),
    ("△ 1", expect(NUMBER, "-1")),
    ("△ 16", expect(NUMBER, "-16")),
    ("△12", expect(NUMBER, "-12")),
    ("△103", expect(NUMBER, "-103")),
    ("△ 5", expect(NUMBER, "-5")),
    ("△ 7", expect(NUMBER, "-7")),
    ("▲401,220千円", expect(NUMBER, "-401220", "千円")),
    ("▲61,276千円", expect(NUMBER, "-61276", "千円")),
    ("46位", expect(Kind.RANK, "46", "位")),
    ("46位 (前月46 位)", expect(Kind.RANK, "46", "位", note="前月46 位")),
    ("47位 (前月47 位)", expect(Kind.RANK, "47", "位", note="前月47 位")),
    ("34位 (34位)", expect(Kind.RANK, "34", "位", note="34位")),
    ("38位 (27位)", expect(Kind.RANK, "38", "位", note="27位")),
    ("20位", expect(Kind.RANK, "20", "位")),
    ("2位", expect(Kind.RANK, "2", "位")),
    ("/", expect(Kind.EMPTY)),  # struck-out cell
    # DESIGN.md notation table and the issue.
    ("４：５６", expect(Kind.DURATION, "296", "分")),
    ("4:56", expect(Kind.DURATION, "296", "分")),
    ("0:05", expect(Kind.DURATION, "5", "分")),
    ("47位", expect(Kind.RANK, "47", "位")),
    ("９６．５％", expect(NUMBER, "96.5", "%")),
    ("▲3", expect(NUMBER, "-3")),
    ("-5", expect(NUMBER, "-5")),
    ("－５件", expect(NUMBER, "-5", "件")),
    ("+2.5%", expect(NUMBER, "2.5", "%")),
    ("△0", expect(NUMBER, "0")),
    ("82.9%（R5.11診療）", expect(NUMBER, "82.9", "%", note="R5.11診療")),
    ("12人", expect(NUMBER, "12", "人")),
    ("8.76日", expect(NUMBER, "8.76", "日")),
    ("79機関", expect(NUMBER, "79", "機関")),
    ("3回", expect(NUMBER, "3", "回")),
    ("445件", expect(NUMBER, "445", "件")),
    ("2万5,000", expect(NUMBER, "25000")),
    ("1億", expect(NUMBER, "100000000")),
    ("実施", expect(Kind.QUALITATIVE, note="実施")),
    ("未実施", expect(Kind.QUALITATIVE, note="未実施")),
    ("実施済", expect(Kind.QUALITATIVE, note="実施済")),
    ("達成", expect(Kind.QUALITATIVE, note="達成")),
    ("未達成", expect(Kind.QUALITATIVE, note="未達成")),
]

UNREADABLE_VALUES = [
    "△",  # a mark, not a number
    "▲",
    "◎",
    "○",
    "×",
    "Δ",  # OCR's Greek delta in seed 003's mark column
    "Δ 32",
    "02.0%",  # OCR noise in seed 003; leading zeros are not a way numbers are written
    "02.070",
    "▲401,220千F",
    "全国平均 82.10%",  # label and value in one cell: the importer splits them
    "計 21,808 14,778",
    "4月 0.174% 0.179%",
    "資料2−1のとおり",
    "R6.3 実績額",
    "96.5%以上",  # a comparator belongs to a target, not to an actual
    "96.5%以上以上",
    "abc",
    "1.2.3%",
    "1,2345",
    "%",
    "以上",
    "対前年度以上",
    "4:60",
    "0位",
    "4.5位",
    "△3位",
    ",",
]


@pytest.mark.parametrize(("text", "expected"), VALUES)
def test_parse_value(text, expected):
    check(parse_value(text), text, expected)


@pytest.mark.parametrize("text", UNREADABLE_VALUES)
def test_unreadable_value_is_unparsed_and_keeps_its_text(text):
    reading = parse_value(text)
    assert reading.kind is Kind.UNPARSED
    assert reading.text == text
    assert reading.value is None
    assert not reading.is_number


@pytest.mark.parametrize(
    ("text", "done"),
    [
        ("実施", True),
        ("実施済", True),
        ("実施済み", True),
        ("達成", True),
        ("済", True),
        ("実施済（3月）", True),
        ("未実施", False),
        ("未達成", False),
        ("実施中", None),
        ("病床機能報告定量基準分析結果に対して意見発信", None),
    ],
)
def test_qualitative_actual_says_whether_done(text, done):
    reading = parse_value(text)
    assert reading.kind is Kind.QUALITATIVE
    assert reading.done is done


def test_qualitative_target_has_no_done_flag():
    assert parse_target("実施").done is None


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        (95.3, "95.3"),
        (0.1, "0.1"),
        (20, "20"),
        (-5, "-5"),
        (Decimal("96.50"), "96.50"),
        (1e20, "100000000000000000000"),
    ],
)
def test_typed_spreadsheet_cells(cell, value):
    reading = parse_value(cell)
    assert reading.kind is Kind.NUMBER
    assert str(reading.value) == value
    assert reading.text == str(cell)


@pytest.mark.parametrize("cell", [float("nan"), float("inf"), Decimal("NaN"), True, object()])
def test_cells_that_are_not_numbers(cell):
    assert parse_value(cell).kind is Kind.UNPARSED


def test_none_is_empty():
    assert parse_value(None).kind is Kind.EMPTY
    assert parse_target(None).kind is Kind.EMPTY
    assert parse_value(None).text == ""


@pytest.mark.parametrize(
    ("text", "rank"),
    [
        ("20位", 20),
        ("20", 20),
        ("２０位", 20),
        (20, 20),
        ("46位 (前月46 位)", 46),
        ("", None),
        (None, None),
        ("-", None),
        ("0位", None),
        (0, None),
        ("20.5", None),
        ("20%", None),
        ("abc", None),
        (True, None),
    ],
)
def test_parse_rank(text, rank):
    assert parse_rank(text) == rank


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (Decimal("-5"), "件", "-5件"),
        (Decimal("95.3"), "%", "95.3%"),
        (Decimal("8364"), "円", "8,364円"),
        (Decimal("0.310"), "%", "0.310%"),
        (Decimal("1234.5"), "%", "1234.5%"),
        (Decimal("1234.50"), "", "1,234.50"),
        (Decimal("999"), "事業所", "999事業所"),
        (Decimal("296"), "分", "4:56"),
        (Decimal("-30"), "分", "-0:30"),
        (Decimal("47"), "位", "47位"),
        (Decimal("-0"), "", "0"),
        (Decimal("142000000"), "", "142,000,000"),
        (None, "%", ""),
    ],
)
def test_format_value(value, unit, text):
    assert format_value(value, unit) == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("９６．５％以上", "96.5%以上"),
        ("1,690事業所（※）以上", "1,690事業所以上"),
        ("前年度(0.54％)以下", "対前年度（0.54%）以下"),
        ("対前年度以上", "対前年度以上"),
        ("【新設】", "【新設】"),
        ("—", "—"),
        ("効果的な意見発信の実施", "効果的な意見発信の実施"),
        ("96.5%以上以上", "96.5%以上以上"),
    ],
)
def test_target_display(text, shown):
    assert parse_target(text).display() == shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("△ 5", "△5"),
        ("▲401,220千円", "△401,220千円"),
        ("-5", "-5"),
        ("４：５６", "4:56"),
        ("47位", "47位"),
        ("0.83% (R6.2現在)", "0.83%（R6.2現在）"),
        ("8364円", "8,364円"),
        ("", "—"),
    ],
)
def test_value_display(text, shown):
    assert parse_value(text).display() == shown


def test_reading_is_immutable():
    reading = parse_value("96.5%")
    with pytest.raises(FrozenInstanceError):
        reading.value = Decimal("100")  # type: ignore[misc]


def test_is_empty_and_is_number():
    assert parse_value("—").is_empty
    assert not parse_target("【新設】").is_empty
    assert parse_value("4:56").is_number
    assert parse_value("47位").is_number
    assert not parse_value("実施").is_number
    assert not parse_target("対前年度以上").is_number
