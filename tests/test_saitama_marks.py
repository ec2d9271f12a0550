"""Seed 000 (埼玉支部 令和5年度 実施状況 概要版): the default rule reproduces the published marks.

Directions: the two 以下 rows (柔道整復 多部位・頻回 ratio, 一者応札 ratio) are lower-is-better,
every other row higher-is-better.
"""

import pytest

from kpis.evaluation import Direction, evaluate, mark_is_consistent
from kpis.notation import parse_target, parse_value

HIGHER, LOWER = Direction.HIGHER, Direction.LOWER

# (measure, KPI 目標, KPI 結果, published 結果, direction)
SAITAMA_FY2023 = [
    ("(2)① サービススタンダード達成状況", "100%", "100%", "○", HIGHER),
    ("(2)② 現金給付申請の郵送化率", "96.5%以上", "96.5%", "○", HIGHER),
    ("(4)③ 柔道整復 多部位・頻回の申請割合", "0.94%以下", "0.83% (R6.2現在)", "◎", LOWER),
    ("(5)① レセプト点検の査定率", "0.310%以上", "0.423%", "◎", HIGHER),
    ("(5)② 再審査レセプト1件当たり査定額", "8,364円以上", "10,123円", "◎", HIGHER),
    ("(6)① 資格喪失後1か月以内の保険証回収率", "85.38%以上", "80.15%", "△", HIGHER),
    ("(7)④ 返納金債権の回収率", "60.24%以上", "66.62%", "◎", HIGHER),
    ("(8) 被扶養者資格確認書の提出率", "94.0%", "85.8%", "△", HIGHER),
    ("2(1) 生活習慣病予防健診実施率", "53.8%以上", "42.6%", "△", HIGHER),
    ("2(1) 事業者健診データ取得率", "18.0%以上", "4.4%", "△", HIGHER),
    ("2(1) 被扶養者の特定健診実施率", "29.3%以上", "13.9%", "△", HIGHER),
    ("2(2) 被保険者の特定保健指導実施率", "36.9%以上", "6.1%", "△", HIGHER),
    ("2(2) 被扶養者の特定保健指導実施率", "15.1%以上", "14.3%", "△", HIGHER),
    ("2(3) 受診勧奨後3か月以内の医療機関受診割合", "13.1%以上", "—", "—", HIGHER),
    ("2(4) 健康宣言事業所数", "1,170事業所以上", "893事業所", "△", HIGHER),
    ("2(6) 健康保険委員委嘱事業所の被保険者割合", "44.0%以上", "44.1%", "○", HIGHER),
    ("2(7) ジェネリック医薬品使用割合", "81.9%以上", "82.9% (R5.11診療)", "○", HIGHER),
    ("3(6) 一般競争入札の一者応札割合", "20%以下", "6.7%", "◎", LOWER),
]


@pytest.mark.parametrize(
    ("measure", "target", "result", "published", "direction"),
    SAITAMA_FY2023,
    ids=[row[0] for row in SAITAMA_FY2023],
)
def test_default_threshold_reproduces_the_published_mark(
    measure, target, result, published, direction
):
    evaluation = evaluate(parse_target(target), parse_value(result), direction)
    assert evaluation.suggested_mark == published
    assert evaluation.problem == ""
    assert mark_is_consistent(published, evaluation)


def test_qualitative_row_is_a_human_judgement():
    # 2(11): the published ○ is the branch's judgement of the narrative; the rule cannot tell.
    evaluation = evaluate(
        parse_target("効果的な意見発信の実施"),
        parse_value("病床機能報告定量基準分析結果に対して意見発信"),
        Direction.QUALITATIVE,
    )
    assert (evaluation.achieved, evaluation.suggested_mark) == (None, "—")
    assert evaluation.problem
    assert mark_is_consistent("○", evaluation)
