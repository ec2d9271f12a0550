"""The branch page lists each measure's activities and KPIs in the report's own order.

The Saitama FY2023 page (demo data) is read row by row, in document order, and compared with
the rows of seed 000 (埼玉支部 令和5年度 実施状況 概要版) transcribed by hand below: a KPI is
one of the numbered activities (the row that carries a target), a sub-group (●被保険者) is a
heading over its rows, numbered from ① again. The Chiba 令和6年度 page is compared with the
KPI list of seed 002 (千葉支部 令和6年度 事業計画（案）, pillar (1)).
"""

import re
from html.parser import HTMLParser

import pytest

from tests import factories
from tests.factories_pages import BranchPlanFactory

ROW_CLASSES = {"activity-row": "activity", "kpi-row": "kpi", "subgroup-row": "heading"}
VOID = {"br", "img", "input", "meta", "link", "hr", "col", "wbr", "source"}


class ReportParser(HTMLParser):
    """The pillars of a branch page: [{"title", "measures": [{"title", "group", "rows"}]}],
    each row {"kind", "number", "text", "mark", "cells"} in document order."""

    def __init__(self):
        super().__init__()
        self.pillars = []
        self.stack = []  # (tag, classes) of open elements
        self.row = None
        self.capture = None  # (dict, key) the text goes to

    def handle_starttag(self, tag, attrs):
        classes = set((dict(attrs).get("class") or "").split())
        if tag not in VOID:
            self.stack.append((tag, classes, self.capture))
        if tag == "section" and "pillar" in classes:
            self.pillars.append({"title": "", "measures": []})
        elif tag == "h2" and self.pillars:
            self.capture = (self.pillars[-1], "title")
        elif tag == "h3" and self.pillars:
            self.pillars[-1]["measures"].append({"title": "", "group": "", "rows": []})
            self.capture = (self.pillars[-1]["measures"][-1], "title")
        elif tag == "span" and "group-name" in classes and self.row is None:
            self.capture = (self.pillars[-1]["measures"][-1], "group")
        elif tag == "tr" and classes & set(ROW_CLASSES) and self.pillars:
            kind = ROW_CLASSES[next(iter(classes & set(ROW_CLASSES)))]
            self.row = {"kind": kind, "number": "", "mark": "", "cells": []}
            self.pillars[-1]["measures"][-1]["rows"].append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self.row["cells"].append("")
            self.capture = None
        elif tag == "span" and self.row is not None and "row-number" in classes:
            self.capture = (self.row, "number")
        elif tag == "span" and self.row is not None and "mark" in classes:
            self.capture = (self.row, "mark")

    def handle_endtag(self, tag):
        if tag in VOID or not self.stack:
            return
        while self.stack:
            open_tag, _, capture = self.stack.pop()
            self.capture = capture
            if open_tag == tag:
                break
        if tag == "tr" and self.row is not None:
            cells = [re.sub(r"\s+", " ", cell).strip() for cell in self.row["cells"]]
            self.row["cells"] = cells
            self.row["number"] = self.row["number"].strip()
            self.row["mark"] = self.row["mark"].strip()
            self.row["text"] = cells[0].removeprefix(self.row["number"]).strip()
            self.row = None

    def handle_data(self, data):
        if self.row is not None and self.row["cells"]:
            self.row["cells"][-1] += data
        if self.capture is not None:
            target, key = self.capture
            target[key] += data


def report(html: str) -> list[dict]:
    parser = ReportParser()
    parser.feed(html)
    for pillar in parser.pillars:
        pillar["title"] = re.sub(r"\s+", " ", pillar["title"]).strip()
        for measure in pillar["measures"]:
            measure["title"] = re.sub(r"\s+", " ", measure["title"]).strip()
            measure["group"] = measure["group"].strip().removeprefix("担当：")
    return parser.pillars


def sequence(measures: list[dict]) -> list[tuple]:
    """(measure number, row number, text, mark) of every row; (measure number, "見出し",
    heading) of a sub-group heading."""
    rows = []
    for measure in measures:
        label = measure["title"].split(" ")[0]
        for row in measure["rows"]:
            if row["kind"] == "heading":
                rows.append((label, "見出し", row["text"]))
            else:
                rows.append((label, row["number"] or None, row["text"], row["mark"]))
    return rows


def assert_rows_match(got: list[tuple], expected: list[tuple]) -> None:
    """Same rows in the same order; each shown text starts with the seed's fragment."""
    shown = [
        (*row[:2], row[2][: len(want[2])], *row[3:])
        for row, want in zip(got, expected, strict=False)
    ]
    assert shown == expected
    assert len(got) == len(expected), got[len(expected) :] or expected[len(got) :]


# Seed 000, 1、基盤的保険者機能関係: every row, as (施策, 番号, 事業内容（KPI） leading text, 結果).
SAITAMA_PILLAR_1 = [
    ("(1)", "①", "評議会において丁寧な説明をしたうえで、保険料率に関する議論を行う", "○"),
    ("(1)", "②", "保険財政等に関する情報発信", "○"),
    ("(2)", "①", "サービススタンダードの達成状況を100%とする", "○"),
    ("(2)", "②", "加入者・事業主の利便性の向上や負担軽減の観点から、現金給付申請等", "○"),
    ("(2)", "③", "顧客対応スキル向上を図るための勉強会等を定期的", "○"),
    ("(2)", "④", "コールセンターとの連携を図るとともに、お客様からの相談紹介", "○"),
    ("(3)", "①", "限度額適用認定証の事業主等への周知広報を実施する", "○"),
    ("(3)", "②", "限度額適用認定証の使用率の低い医療機関に対して", "×"),
    ("(4)", "①", "不正の疑いのある申請に係る照会等の重点的な審査を行う", "○"),
    ("(4)", "②", "傷病手当金と障害年金等の併給調整の確実な実施する", "○"),
    ("(4)", "③", "柔道整復施術療養費における給付の適正化", "◎"),
    ("(4)", "④", "社労士会との連携を図り、現金給付の適正化を推進する", "○"),
    ("(5)", "①", "社会保険診療報酬支払基金と合算したレセプト点検の査定率", "◎"),
    ("(5)", "②", "協会けんぽの再審査レセプト1件当たりの査定額", "◎"),
    ("(6)", "①", "保険証の未回収者への返納催告の徹底", "△"),
    ("(6)", "②", "保険証未返納件数の多い事業所に対しての早期回収勧奨", "○"),
    ("(7)", "①", "定期催告を計画的に実施する", "○"),
    ("(7)", "②", "保険者間調整を積極的に活用する", "○"),
    ("(7)", "③", "再就職が確認できた債務者への催告を実施する", "○"),
    ("(7)", "④", "債権の回収強化", "◎"),
    ("(8)", None, "被扶養者資格の再確認の徹底", "△"),
    ("(9)", None, "マイナンバーカードが健康保険証として利用できるほか", "○"),
    ("(10)", "①", "業務の標準化・効率化・簡素化の徹底による生産性の向上を図る", "○"),
    ("(10)", "②", "職員からの改善提案を検討実施し", "○"),
    ("(10)", "③", "新システムの効果を最大化し", "○"),
    ("(10)", "④", "コールセンターとの連携を図り、お客様からの相談等に対応できるよう", "○"),
]

# Seed 000, 2、戦略的保険者機能関係 (1) and (2): the sub-groups, each numbered from ①, with
# its KPI (unnumbered in the report) after its activities.
SAITAMA_PILLAR_2_SUBGROUPS = [
    ("(1)", "見出し", "被保険者 (生活習慣病予防健診)"),
    ("(1)", "①", "健診・保健指導カルテ等から勧奨対象者を選定し", "○"),
    ("(1)", "②", "協会けんぽ主催の健診や健診推進インセンティブ", "○"),
    ("(1)", "③", "新規健診機関の拡大・既存機関の受診者数増加", "○"),
    ("(1)", None, "生活習慣病予防健診実施率を53.8%以上とする", "△"),
    ("(1)", "見出し", "被保険者 (事業者健診データ)"),
    ("(1)", "①", "データ取得促進に向け事業所規模別に勧奨策を実施する", "○"),
    ("(1)", "②", "健診推進インセンティブを活用し、医療機関からの早期データ提供", "○"),
    ("(1)", "③", "データ提供未契約の健診機関への契約勧奨", "○"),
    ("(1)", "④", "同意書の取得促進し", "○"),
    ("(1)", None, "事業者健診データ取得率を18.0%以上とする", "△"),
    ("(1)", "見出し", "被扶養者 (特定健診)"),
    ("(1)", "①", "自治体と連携し集団健診の実施を推進する", "○"),
    ("(1)", "②", "歯科健診等の付加を付けた集団健診を実施する", "○"),
    ("(1)", None, "被扶養者の特定健診実施率を29.3%以上とする", "△"),
    ("(2)", "見出し", "被保険者"),
    ("(2)", "①", "支部内保健師等の充足を図り", "○"),
    ("(2)", "②", "新規特定保健指導機関の拡大", "○"),
    ("(2)", "③", "情報通信技術（ICT）を活用した保健指導を推進する", "○"),
    ("(2)", "④", "特定保健指導対象者の多い事業所への保健指導", "○"),
    ("(2)", "⑤", "特定保健指導非対象者へ情報提供を行い", "○"),
    ("(2)", "⑥", "健康宣言事業所を中心とした禁煙指導を行う", "○"),
    ("(2)", None, "被保険者の特定保健指導の実施率を36.9%以上とする", "△"),
    ("(2)", "見出し", "被扶養者"),
    ("(2)", "①", "集団健診と同日に初回面談の実施し", "○"),
    ("(2)", "②", "市町村等と連携した特定保健指導を実施する", "○"),
    ("(2)", "③", "遠隔面談を活用した特定保健指導を実施する", "○"),
    ("(2)", None, "被扶養者の特定保健指導の実施率を15.1%以上とする", "△"),
]

# Seed 002, KPI一覧表 (1) 基盤的保険者機能の盤石化: measures in order, each with its 担当G
# (merged cells carried down) and its R6 KPIs in order with their targets.
CHIBA_PILLAR_1 = [
    ("健全な財政運営", "企画総務G", []),
    ("業務改革の実践と業務品質の向上 ① 業務処理体制の強化と意識改革の徹底", "業務G", []),
    (
        "業務改革の実践と業務品質の向上 ② サービス水準の向上",
        "業務G",
        [
            ("サービススタンダードの達成状況を100%とする", "100%"),
            ("現金給付等の申請に係る郵送化率を対前年度以上とする", "対前年度以上"),
        ],
    ),
    ("業務改革の実践と業務品質の向上 ③ 現金給付等の適正化の推進", "業務G", []),
    (
        "業務改革の実践と業務品質の向上 ④ レセプト点検の精度向上",
        "レセプトG",
        [
            ("協会のレセプト点検の査定率（※）について対前年度以上とする", "対前年度以上"),
            ("協会の再審査レセプト1件当たりの査定額を対前年度以上とする", "対前年度以上"),
        ],
    ),
    (
        "業務改革の実践と業務品質の向上 ⑤ 債権管理・回収と返納金債権発生防止の強化",
        "レセプトG",
        [
            (
                "返納金債権（診療報酬返還金（不当請求）を除く。）の回収率を対前年度以上とする",
                "対前年度以上",
            ),
            ("日本年金機構回収分も含めた資格喪失後1か月以内の保険証回収率", "対前年度以上"),
        ],
    ),
    ("ICT化の推進", "企画総務G・業務G", []),
]


@pytest.fixture(scope="module", autouse=True)
def demo_loaded(demo):
    """The demo data for every test of the module (conftest.demo)."""


@pytest.fixture
def saitama(client, council):
    client.force_login(council)
    return report(client.get("/branches/11/2023/").content.decode())


def test_every_row_of_saitama_pillar_1_stands_where_the_report_has_it(saitama):
    assert saitama[0]["title"].startswith("1. 基盤的保険者機能関係")

    assert_rows_match(sequence(saitama[0]["measures"]), SAITAMA_PILLAR_1)


def test_kpis_are_the_numbered_activities_that_carry_a_target(saitama):
    rows = {row["text"][:10]: row for m in saitama[0]["measures"] for row in m["rows"]}

    kpi = rows["柔道整復施術療養費に"]
    assert kpi["kind"] == "kpi"
    # 目標, 実績 (as written, its as-of note apart), 達成 and 結果 in the activity's row.
    assert kpi["cells"][1:3] == ["0.94%以下", "0.83%（R6.2現在）"]
    assert kpi["cells"][6:8] == ["達成", "◎"]
    assert rows["社労士会との連携を図"]["kind"] == "activity"


def test_sub_groups_are_headings_over_rows_numbered_from_1(saitama):
    measures = saitama[1]["measures"][:2]

    assert_rows_match(sequence(measures), SAITAMA_PILLAR_2_SUBGROUPS)
    texts = [row["text"] for measure in measures for row in measure["rows"]]
    assert not [text for text in texts if text.startswith(("●", "◆"))]


def test_chiba_plan_measures_and_kpis_in_the_order_of_its_kpi_list(client, admin):
    client.force_login(admin)
    pillars = report(client.get("/branches/12/2024/").content.decode())

    got = [
        (
            measure["title"].split(" ", 1)[1].split(" 重要度")[0].split(" 困難度")[0],
            measure["group"],
            [(row["text"], row["cells"][1].split("評価の基準")[0]) for row in measure["rows"]],
        )
        for measure in pillars[0]["measures"]
    ]
    assert [(title, group) for title, group, _ in got] == [
        (title, group) for title, group, _ in CHIBA_PILLAR_1
    ]
    for (_, _, rows), (title, _, kpis) in zip(got, CHIBA_PILLAR_1, strict=True):
        assert len(rows) == len(kpis), title
        for (text, target), (fragment, written) in zip(rows, kpis, strict=True):
            assert (text[: len(fragment)], target) == (fragment, written)


def test_a_measure_heading_gives_its_group_and_the_reasons_of_its_flags(client, admin):
    BranchPlanFactory(fiscal_year=factories.FiscalYearFactory(start_year=2025))
    factories.MeasureFactory(
        fiscal_year__start_year=2025,
        title="健全な財政運営",
        group="企画総務G",
        is_important=True,
        is_difficult=True,
        importance_reason="日本最大の医療保険者であり、重要度が高い。",
        difficulty_reason="財政の赤字構造は解消されておらず、困難度が高い。",
    )
    client.force_login(admin)
    html = client.get("/branches/11/2025/").content.decode()
    (pillar,) = report(html)

    assert pillar["measures"][0]["group"] == "企画総務G"
    assert "【重要度：高】</span><p>日本最大の医療保険者であり、重要度が高い。</p>" in html
    assert "【困難度：高】</span><p>財政の赤字構造は解消されておらず、困難度が高い。</p>" in html
