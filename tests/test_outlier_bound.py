"""The bound the write path checks months against before it looks for outliers
(kpis.checks.outlier_bound) never hides a month `check_outlier` would warn about."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from kpis.checks import check_outlier, outlier_bound

months = st.lists(
    st.one_of(
        st.just(Decimal(0)),
        st.integers(-50_000, 50_000).map(Decimal),
        st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(months)
def test_no_month_at_or_below_the_bound_is_an_outlier(series):
    bound = outlier_bound(series)
    for i, value in enumerate(series):
        others = series[:i] + series[i + 1 :]
        warned = check_outlier(str(value), value, others, unit="件")
        if warned:
            assert bound is not None and abs(value) > bound


def test_a_spike_is_above_the_bound_and_warned():
    series = [Decimal(n) for n in (10, 12, 11, 9, 500)]
    assert abs(series[-1]) > outlier_bound(series)
    assert check_outlier("500", series[-1], series[:-1], unit="件")
