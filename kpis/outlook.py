"""The year-end outlook (着地見込み) of a KPI, from the months entered so far.

Pure Python, beside `kpis/evaluation.py`: the write path (kpis.writes) stores what this
module projects, and pages read it. Like the evaluation it never raises on input and says
"no outlook" (with a Japanese reason) rather than guess: fewer than three months, or a
projection the evaluation cannot judge against the target.

How the year-end figure is projected follows what the indicator's months add up to:
- a sum of single months (単月の合計): the months entered, divided by the share of the
  previous year's total that the same months held (its monthly profile); without a whole
  previous year of months, by the average of the months entered times twelve (linear pace);
- a running total (累計): its latest value, divided by the share of the previous year's
  March figure it had reached by the same month; without one, by its pace over the months
  elapsed. A running figure that does not grow with the months — a ratio to date (査定率,
  1件当たり査定額), told from last year's series (else this year's) — has no share of the
  year reached by a month: it is projected as a level. A rate stays at 100 % at most;
- a level (時点, and the monthly rates of a 累計 rate indicator kept as single months): the
  latest value, plus the least-squares trend of the last six months damped month by month
  up to March (a damped linear trend: a rising series is never projected below where it
  stands); a rate in % stays within 0–100 %, and a series that never went below zero is
  not projected below it.
March entered settles it: the year's total, March's running total, March's level.

The projection is then evaluated against the target by `kpis.evaluation.evaluate`, the rule
the actual is evaluated by, as if it were the actual: its mark is the outlook's (見込み).
"""

from dataclasses import dataclass
from decimal import Decimal

from kpis.eras import FISCAL_MONTHS
from kpis.evaluation import DEFAULT_EXCELLENT_MARGIN, evaluate
from kpis.notation import Reading, format_value, parse_value
from kpis.vocabulary import Aggregation, Direction, Series

MIN_MONTHS = 3
TREND_MONTHS = 6
# Each further month keeps this share of the month before's trend (at most four months'
# worth of it in all): a half-year's trend is not assumed to last unchanged to March.
DAMPING = Decimal("0.8")
RATE_UNIT = "%"
MAX_PLACES = 6

# How a series reaches its year-end figure.
ADDITIVE, RUNNING, LEVEL = "additive", "running", "level"


@dataclass(frozen=True)
class Projection:
    """A projected year-end figure and how it was reached, or (value None) why there is none."""

    value: Decimal | None
    basis: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Outlook:
    """What the KPI stores: the projection as a text, its mark against the target, and the
    one-line basis; all blank (and `reason` said) when there is no outlook."""

    value: Decimal | None = None
    text: str = ""
    mark: str = ""
    basis: str = ""
    reason: str = ""

    @property
    def exists(self) -> bool:
        return self.value is not None


_POSITIONS = {month: index for index, month in enumerate(FISCAL_MONTHS, start=1)}


def position(month: int) -> int:
    """April → 1 … March → 12."""
    return _POSITIONS[month]


def project(
    aggregation: str,
    unit: str,
    months: dict[str, dict[int, Decimal]],
    previous: dict[str, dict[int, Decimal]] | None = None,
) -> Projection:
    """The year-end figure from `months` ({series: {calendar month: value}}) and the previous
    year's months in the same shape (None or {} when there are none)."""
    positioned = {key: _positions(values) for key, values in months.items()}
    chosen = _year_end_series(aggregation, unit, positioned)
    if chosen is None:
        return Projection(None, reason="月次の実績がありません")
    series, method = chosen
    observed = positioned[series]
    if len(observed) < MIN_MONTHS:
        return Projection(None, reason=f"月次の実績が{MIN_MONTHS}か月に満たないため見込みなし")
    before = _positions((previous or {}).get(series, {}))
    span = _span(observed)
    if method == ADDITIVE:
        return _additive(observed, before, span)
    if method == RUNNING:
        running = _running(observed, before, span, rate=unit == RATE_UNIT)
        if running is not None and unit == RATE_UNIT:
            return Projection(min(running.value, Decimal(100)), running.basis)
        if running is not None:
            return running
    return _level(observed, span, rate=unit == RATE_UNIT)


def outlook(
    aggregation: str,
    unit: str,
    months: dict[str, dict[int, Decimal]],
    previous: dict[str, dict[int, Decimal]] | None,
    target: Reading,
    direction: Direction = Direction.HIGHER,
    **evaluation,
) -> Outlook:
    """The projection evaluated by the actual's rule (`judge`); `evaluation`: previous_actual,
    stored_previous_actual and excellent_margin, as `kpis.evaluation.evaluate` takes them."""
    projection = project(aggregation, unit, months, previous)
    if projection.value is None:
        return Outlook(reason=projection.reason)
    judged = judge(projection.value, unit, months, target, direction, **evaluation)
    if not judged.exists:
        return judged
    return Outlook(judged.value, judged.text, judged.mark, projection.basis)


def judge(
    value: Decimal,
    unit: str,
    months: dict[str, dict[int, Decimal]],
    target: Reading,
    direction: Direction = Direction.HIGHER,
    *,
    previous_actual: Reading | None = None,
    stored_previous_actual: Reading | None = None,
    excellent_margin: Decimal = DEFAULT_EXCELLENT_MARGIN,
) -> Outlook:
    """A year-end figure, written as the months are (their finest decimals), evaluated as
    the actual is: the text is what the evaluation read, so mark and text agree."""
    values = [v for series in months.values() for v in series.values() if v is not None]
    value = _rounded(value, values)
    text = format_value(value, unit)
    if value < 0:
        text = "△" + text.removeprefix("-")  # the branches' accounting minus
    result = evaluate(
        target,
        parse_value(text),
        direction,
        previous_actual=previous_actual,
        stored_previous_actual=stored_previous_actual,
        excellent_margin=excellent_margin,
    )
    if result.achieved is None:
        return Outlook(reason=result.problem or "目標に対して見込みを評価できません")
    return Outlook(value, text, result.suggested_mark)


# --- the three ways a year ends ----------------------------------------------------------


def year_end_series(aggregation: str, unit: str, months: dict) -> tuple[str, str] | None:
    """(series, method) the indicator's year-end figure comes from, among those entered;
    method is ADDITIVE, RUNNING or LEVEL."""
    positioned = {key: _positions(values) for key, values in months.items()}
    return _year_end_series(aggregation, unit, positioned)


def _year_end_series(aggregation: str, unit: str, positioned: dict) -> tuple[str, str] | None:
    """`year_end_series` of months already keyed by fiscal position (`_positions`)."""
    entered = {key for key, values in positioned.items() if values}
    single, running = Series.SINGLE.value, Series.CUMULATIVE.value
    if aggregation == Aggregation.POINT:
        # A level kept as a running count (事業所数) is the level itself.
        found = running if running in entered else single if single in entered else None
        return (found, LEVEL) if found else None
    if aggregation == Aggregation.SUM:
        order = ((single, ADDITIVE), (running, RUNNING))
    else:
        # Monthly rates of a 累計 rate indicator do not add up: they are its level.
        order = ((running, RUNNING), (single, LEVEL if unit == RATE_UNIT else ADDITIVE))
    return next(((key, method) for key, method in order if key in entered), None)


def _additive(observed: dict, before: dict, span: str) -> Projection:
    total = sum(observed.values(), Decimal(0))
    if len(observed) == 12:
        return Projection(total, "4〜3月の実績の合計")
    share = _share(observed, before)
    if share is not None:
        return Projection(total / share, f"{span}の実績と前年度の月別構成比から推計")
    return Projection(total * 12 / len(observed), f"{span}の実績の月平均×12か月で推計")


def _share(observed: dict, before: dict) -> Decimal | None:
    """The share of the previous year's total held by the months entered this year, from a
    whole previous year of non-negative months; None when it gives nothing to scale by."""
    if len(before) != 12 or any(v < 0 for v in before.values()):
        return None
    total = sum(before.values(), Decimal(0))
    share = sum((before[p] for p in observed), Decimal(0)) / total if total > 0 else Decimal(0)
    return share if share > 0 else None


def _running(observed: dict, before: dict, span: str, *, rate: bool) -> Projection | None:
    """A running total's March figure; None: project it as a level (a ratio to date)."""
    latest = max(observed)
    value = observed[latest]
    if latest == 12:
        return Projection(value, "3月の累計")
    # Last year's whole series tells best what kind of running figure it is.
    total = builds_up(before if len(before) >= MIN_MONTHS else observed)
    if total is False or (total is None and rate):
        return None
    reached, final = before.get(latest), before.get(12)
    if reached is not None and final is not None and reached > 0 and final > 0 and value >= 0:
        return Projection(value * final / reached, f"{span}の実績と前年度の月別構成比から推計")
    return Projection(value * 12 / latest, f"{span}の累計のペース（月平均×12か月）で推計")


def builds_up(series: dict) -> bool | None:
    """Whether a running figure is a total the months add to (it grows with the months
    elapsed) rather than a ratio to date (査定率, 1件当たり査定額: it hovers): whether its
    latest value stands nearer, on a log scale, to its first value times the months elapsed
    since than to its first value. None when it cannot tell (one month, zero or below)."""
    first, last = min(series, default=0), max(series, default=0)
    if first == last or series[first] <= 0 or series[last] <= 0:
        return None
    growth = series[last] / series[first]
    return growth * growth >= Decimal(last) / Decimal(first)


def _level(observed: dict, span: str, *, rate: bool) -> Projection:
    latest = max(observed)
    if latest == 12:
        return Projection(observed[12], "3月の値")
    recent = sorted(observed)[-TREND_MONTHS:]
    slope = _slope(recent, [observed[p] for p in recent])
    remaining = 12 - latest
    ahead = DAMPING * (1 - DAMPING**remaining) / (1 - DAMPING)
    value = observed[latest] + slope * ahead
    if rate:
        value = min(max(value, Decimal(0)), Decimal(100))
    elif all(v >= 0 for v in observed.values()):
        value = max(value, Decimal(0))
    return Projection(value, f"{span}の実績の直近{len(recent)}か月の傾向（逓減）から推計")


def _slope(xs: list[int], ys: list[Decimal]) -> Decimal:
    """The least-squares slope per month."""
    n = Decimal(len(xs))
    mean_x = Decimal(sum(xs)) / n
    mean_y = sum(ys, Decimal(0)) / n
    spread = sum((Decimal(x) - mean_x) ** 2 for x in xs)
    slope = sum((Decimal(x) - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return slope / spread if spread else Decimal(0)


def _positions(values: dict) -> dict[int, Decimal]:
    """{fiscal position: value} of the months' finite numbers (anything else is skipped)."""
    return {
        _POSITIONS[m]: v
        for m, v in values.items()
        if m in _POSITIONS and isinstance(v, Decimal) and v.is_finite()
    }


def _span(observed: dict) -> str:
    """「4〜9月」, or 「4〜9月のうち5か月」 when months are missing."""
    first, last = min(observed), max(observed)
    span = f"{FISCAL_MONTHS[first - 1]}〜{FISCAL_MONTHS[last - 1]}月"
    if len(observed) < last - first + 1:
        span += f"のうち{len(observed)}か月"
    return span


def _rounded(value: Decimal, values: list[Decimal]) -> Decimal:
    """To the finest decimals the months were written with (whole numbers at least)."""
    places = max([0, *(-v.as_tuple().exponent for v in values if v.is_finite())])
    places = min(places, MAX_PLACES)
    return value.quantize(Decimal(1).scaleb(-places))
