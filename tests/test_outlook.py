"""The year-end outlook (kpis.outlook): how each kind of series is projected, and when
there is no outlook."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from kpis.eras import FISCAL_MONTHS
from kpis.notation import parse_target, parse_value
from kpis.outlook import outlook, project
from kpis.vocabulary import Direction

D = Decimal
SINGLE, CUMULATIVE = "single", "cumulative"
FIRST_HALF = FISCAL_MONTHS[:6]  # April to September


def months(values, series=SINGLE, start=0) -> dict:
    """{series: {calendar month: Decimal}} from values in fiscal order (None: not entered)."""
    return {
        series: {FISCAL_MONTHS[start + i]: D(str(v)) for i, v in enumerate(values) if v is not None}
    }


def test_a_sum_follows_last_years_monthly_profile():
    # Last year: a slow first half (30 of 120); this year the same months made 45.
    last_year = months([5, 5, 5, 5, 5, 5, 15, 15, 15, 15, 15, 15])
    this_year = months([7, 8, 7, 8, 7, 8])
    found = project("sum", "件", this_year, last_year)
    assert found.value == D(180)  # 45 / (30 / 120)
    assert found.basis == "4〜9月の実績と前年度の月別構成比から推計"


def test_a_sum_without_last_year_runs_at_its_average_pace():
    found = project("sum", "件", months([10, 20, 30]), None)
    assert found.value == D(240)
    assert found.basis == "4〜6月の実績の月平均×12か月で推計"


def test_missing_months_are_unknown_not_zero():
    found = project("sum", "件", months([10, None, 10, 10]), None)
    assert found.value == D(120)  # three months entered, 10 a month
    assert found.basis == "4〜7月のうち3か月の実績の月平均×12か月で推計"
    # With a profile only the months entered are compared with the same months last year.
    last_year = months([10] * 12)
    assert project("sum", "件", months([10, None, 10, 10]), last_year).value == D(120)


def test_a_running_total_follows_the_share_of_last_years_march_reached():
    last_year = months([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 200], CUMULATIVE)
    this_year = months([12, 24, 36, 48, 60, 90], CUMULATIVE)
    found = project("cumulative", "件", this_year, last_year)
    assert found.value == D(300)  # 90 at September, which held 60/200 of last year's March


def test_a_running_total_without_last_year_runs_at_its_pace_over_the_months_elapsed():
    # September's total covers six months, also when a month between was not entered.
    this_year = months([10, None, 30, None, None, 60], CUMULATIVE)
    assert project("cumulative", "件", this_year, None).value == D(120)


def test_a_rate_that_builds_up_runs_at_its_pace():
    # 健診実施率: the year's uptake so far, a third of it by June.
    assert project("cumulative", "%", months([5, 10, 15], CUMULATIVE), None).value == D(60)


def test_a_ratio_to_date_is_a_level_also_with_last_years_months():
    # 1件当たり査定額 to date: last year it fell from 4,186円 to 3,151円, a ratio that hovers,
    # not a total; its share of March reached by September says nothing of this year.
    last_year = months([4186, 4024, 3999, 4060, 3748, 3580, 3421, 3339, 3277, 3181, 3152, 3151])
    this_year = months([2410, 2517, 2476, 2613, 2991, 3235], CUMULATIVE)
    found = project("cumulative", "円", this_year, {CUMULATIVE: last_year[SINGLE]})
    assert found.value > D(3235)  # rising: not 3,235 × 3,151 / 3,580
    assert "傾向" in found.basis


def test_a_running_rate_without_last_year_is_a_level_not_a_growing_total():
    this_year = months([92.8, 91.5, 89.9, 89.1, 88.5, 88.1], CUMULATIVE)
    found = project("cumulative", "%", this_year, None)
    assert D(84) < found.value < D("88.1")  # falling, damped: not 88.1 × 2
    assert "傾向" in found.basis


def test_a_level_follows_its_trend_damped():
    found = project("point", "件", months([100, 110, 120, 130, 140, 150]), None)
    # 150 at September, then 10 a month for the six months to March, each month's step
    # 0.8 of the one before: 150 + 10 × (0.8 + 0.8² + … + 0.8⁶).
    assert found.value == D("179.51424")
    assert found.basis == "4〜9月の実績の直近6か月の傾向（逓減）から推計"


def test_a_rate_stays_within_0_to_100_percent():
    assert project("point", "%", months([96, 98, 100]), None).value == D(100)
    assert project("point", "%", months([9, 5, 1]), None).value == D(0)


def test_a_level_kept_as_a_running_count_is_read_from_that_series():
    both = {**months([1, 2, 3], SINGLE), **months([100, 101, 102], CUMULATIVE)}
    assert project("point", "事業所", both, None).value > D(100)


def test_monthly_rates_of_a_cumulative_rate_indicator_are_its_level():
    # 郵送化率 kept as each month's rate: twelve rates do not add up to a year.
    found = project("cumulative", "%", months([94.6, 94.9, 95.3, 95.5, 95.6, 94.4]), None)
    assert D(94) < found.value < D(97)


def test_march_entered_settles_the_year():
    full = [10] * 12
    assert project("sum", "件", months(full), None).value == D(120)
    assert project("cumulative", "件", months(range(1, 13), CUMULATIVE), None).value == D(12)
    assert project("point", "%", months([*full[:11], 50]), None).value == D(50)


def test_fewer_than_three_months_has_no_outlook():
    found = project("sum", "件", months([10, 20]), months([10] * 12))
    assert found.value is None
    assert found.reason == "月次の実績が3か月に満たないため見込みなし"
    assert project("sum", "件", {}, None).reason == "月次の実績がありません"


def test_zeros_and_negatives():
    # All zeros last year: no profile to scale by, so the average pace.
    assert project("sum", "件", months([0, 0, 0]), months([0] * 12)).value == D(0)
    # A net decrease each month (業務経費の増減) sums below zero.
    assert project("sum", "千円", months([-5, -5, -5]), None).value == D(-60)
    # A falling count is not projected below zero; a series that was negative may be.
    assert project("point", "件", months([30, 15, 0]), None).value == D(0)
    assert project("point", "千円", months([-10, -20, -30]), None).value < D(-30)


def test_the_outlook_is_evaluated_by_the_actuals_rule():
    found = outlook("sum", "件", months([10] * 6), None, parse_target("115件以上"))
    assert (found.value, found.text, found.mark) == (D(120), "120件", "○")
    above = outlook("sum", "件", months([20] * 6), None, parse_target("115件以上"))
    assert above.mark == "◎"
    below = outlook("sum", "件", months([9] * 6), None, parse_target("115件以上"))
    assert below.mark == "△"
    lower_is_better = outlook(
        "point", "%", months([1.2, 1.1, 1.0]), None, parse_target("1.0%以下"), Direction.LOWER
    )
    assert lower_is_better.mark in ("○", "◎")


def test_the_outlook_is_written_as_the_months_are():
    found = outlook("point", "%", months(["95.30", "95.30", "95.30"]), None, parse_target("95%"))
    assert found.text == "95.30%"
    minus = outlook("sum", "千円", months([-5, -5, -5]), None, parse_target("0千円以下"))
    assert minus.text == "△60千円"


def test_a_relative_target_is_evaluated_against_last_years_actual():
    found = outlook(
        "sum",
        "件",
        months([10] * 6),
        None,
        parse_target("対前年度以上"),
        stored_previous_actual=parse_value("130件"),
    )
    assert found.mark == "△"


def test_no_outlook_where_the_rule_cannot_evaluate():
    without_baseline = outlook("sum", "件", months([10] * 3), None, parse_target("対前年度以上"))
    assert without_baseline.exists is False
    assert without_baseline.reason == "前年度実績が未登録のため評価できません"
    qualitative = outlook("sum", "", months([1, 0, 1]), None, parse_target("意見発信を行う"))
    assert qualitative.exists is False
    assert outlook("sum", "件", months([1] * 3), None, parse_target("")).exists is False


# --- properties ----------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=10_000, places=1, allow_nan=False)
entered = st.lists(st.one_of(st.none(), amounts), min_size=12, max_size=12)
profiles = st.one_of(st.none(), st.lists(amounts, min_size=12, max_size=12))


def _observed(cells, upto):
    return [c for c in cells[:upto] if c is not None]


@settings(max_examples=60)
@given(entered, st.integers(min_value=1, max_value=12), profiles, st.sampled_from(["sum", "point"]))
def test_never_raises_and_needs_three_months(cells, upto, profile, aggregation):
    this_year = months(cells[:upto])
    last_year = months(profile) if profile else None
    found = project(aggregation, "件", this_year, last_year)
    if len(_observed(cells, upto)) < 3:
        assert found.value is None and found.reason
    else:
        assert found.value is not None and found.basis


@settings(max_examples=60)
@given(entered, st.integers(min_value=3, max_value=11), profiles)
def test_a_sum_is_at_least_what_was_entered(cells, upto, profile):
    observed = _observed(cells, upto)
    found = project("sum", "件", months(cells[:upto]), months(profile) if profile else None)
    if len(observed) >= 3:
        assert found.value >= sum(observed) - D("0.000001")


@settings(max_examples=60)
@given(
    st.lists(amounts, min_size=3, max_size=11),
    st.booleans(),
    st.sampled_from(["point", "cumulative"]),
    st.sampled_from(["%", "件"]),
)
def test_a_monotone_series_is_projected_in_its_direction(steps, rising, aggregation, unit):
    # Built from non-negative steps: rising, or falling from the total down.
    total, values = D(0), []
    for step in steps:
        total += step
        values.append(total)
    if not rising:
        values = [total - v for v in values]
    if unit == "%" and total:
        values = [v * 100 / total for v in values]  # within 0–100 %
    found = project(aggregation, unit, months(values, CUMULATIVE), None)
    latest = values[-1]
    if rising:
        assert found.value >= latest
    else:
        assert found.value <= latest
    if unit == "%":
        assert D(0) <= found.value <= D(100)
    else:
        assert found.value >= 0  # a series that never went below zero


@settings(max_examples=40)
@given(st.lists(amounts, min_size=12, max_size=12), st.integers(min_value=3, max_value=11))
def test_last_years_months_projected_with_their_own_profile_give_their_total(profile, upto):
    # A year that runs exactly like the last one lands where the last one did.
    found = project("sum", "件", months(profile[:upto]), months(profile))
    total = sum(profile)
    if sum(profile[:upto]) > 0:
        assert abs(found.value - total) < D("0.0001")


def test_cells_that_are_not_numbers_or_months_are_skipped():
    cells = {SINGLE: {4: D(10), 5: D("NaN"), 6: D(10), 7: None, 13: D(99), 8: D(10)}}
    found = project("sum", "件", cells, None)
    assert found.value == D(120)  # April, June and August
