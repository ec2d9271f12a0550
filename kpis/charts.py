"""Small charts drawn as inline SVG on the server.

No JavaScript and nothing from a CDN: the markup prints like the rest of the page, and a
Content-Security-Policy without inline scripts leaves it alone. Colours come from classes
styled in static/css/pages.css. Values are also written as text (point labels, <title>
tooltips) because a chart on paper cannot be hovered.

No text is drawn over another: every label goes through `Labels`, which estimates the box
a browser gives it and moves or leaves out a label that would overlap one placed before
(a left-out value stays in its point's or bar's <title>).
"""

import functools
import html
import math
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from kpis.notation import as_written, format_value

# Values closer than this share of their size are drawn as one level: a float cannot place
# 7999999999.999999 and 8000000000 apart, and an axis between them would have no length.
FLAT_SPAN = 1e-9

# Font sizes in px, as static/css/pages.css sets them (.chart-svg, .chart-small); each
# <svg> carries its own as an attribute too.
FONT_SIZE = 11
SMALL_FONT_SIZE = 10
# The box of a line of text, in em, erring wide: Noto Sans CJK JP (the pages' first font
# present here) gives a text 1.16 em above its baseline and 0.29 em below; full-width
# characters are 1 em wide, `%` and wide Latin letters up to 0.95 em, other half-width
# characters up to 0.65 em (DejaVu Sans digits 0.64 em).
ASCENT, DESCENT = 1.16, 0.29
WIDE_HALF_WIDTH = frozenset("%@MWmw")
# Space kept between two labels, in px.
LABEL_GAP = 2.0


def plain_decimal(value: Decimal | None) -> Decimal | None:
    """0.830000 → 0.83 and 100.000000 → 100 (never 1E+2)."""
    if value is None:
        return None
    return Decimal(format(value.normalize(), "f"))


def format_number(value: Decimal | None, unit: str) -> str:
    """`95.3%`, `8,364円`, `△2件`: a number no one wrote (a computed value, an axis tick),
    without the database's trailing zeros."""
    if value is None:
        return ""
    return _accounting_minus(format_value(plain_decimal(value), unit))


def _accounting_minus(text: str) -> str:
    return "△" + text[1:] if text.startswith("-") else text


def value_label(value: Decimal, unit: str, text: str = "") -> str:
    """A chart's label for a value: the text it was written as, else the number."""
    return as_written(text) if text else format_number(value, unit)


# --- where labels go -----------------------------------------------------------------------


def text_width(text: str, size: float) -> float:
    """The width a browser gives `text` at font size `size`, estimated from its characters."""
    return _ems(text) * size


@functools.lru_cache(maxsize=4096)
def _ems(text: str) -> float:
    # Cached: a branch page places thousands of labels, most of them the same few texts.
    ems = 0.0
    for char in text:
        if unicodedata.east_asian_width(char) in "WFA":
            ems += 1.0
        elif char in WIDE_HALF_WIDTH:
            ems += 0.95
        else:
            ems += 0.65
    return ems


class Box(NamedTuple):
    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: "Box") -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.top < other.bottom
            and other.top < self.bottom
        )

    def within(self, other: "Box") -> bool:
        return (
            other.left <= self.left
            and self.right <= other.right
            and other.top <= self.top
            and self.bottom <= other.bottom
        )

    def grown(self, by: float) -> "Box":
        return Box(self.left - by, self.top - by, self.right + by, self.bottom + by)


def text_box(text: str, x: float, y: float, anchor: str, size: float) -> Box:
    """The box of an SVG <text> at (x, y) — y is its baseline — with its text-anchor."""
    width = text_width(text, size)
    left = x - {"start": 0.0, "middle": width / 2, "end": width}[anchor]
    return Box(left, y - ASCENT * size, left + width, y + DESCENT * size)


@dataclass(frozen=True)
class Spot:
    """A place a label may go: its anchor point and text-anchor."""

    x: float
    y: float
    anchor: str = "middle"


class Labels:
    """The texts of one chart, placed in turn: each goes to the first of its spots where
    it stays inside the chart and clear of every text placed before, or is left out.
    What is placed first wins, so callers place what matters most first."""

    def __init__(self, width: float, height: float, size: float):
        self.bounds = Box(0.0, 0.0, float(width), float(height))
        self.size = size
        self.boxes: list[Box] = []
        self.parts: list[SafeString] = []

    def place(self, text: str, css: str, spots: list[Spot]) -> Spot | None:
        for spot in spots:
            # Rounded as the markup writes it, so the box checked is the box drawn.
            spot = Spot(round(spot.x, 1), round(spot.y, 1), spot.anchor)
            box = text_box(text, spot.x, spot.y, spot.anchor, self.size)
            if box.within(self.bounds) and not self._crowded(box.grown(LABEL_GAP)):
                self.boxes.append(box)
                self.parts.append(
                    _html(
                        '<text class="{}" x="{}" y="{}" text-anchor="{}">{}</text>',
                        css,
                        spot.x,
                        spot.y,
                        spot.anchor,
                        text,
                    )
                )
                return spot
        return None

    def _crowded(self, box: Box) -> bool:
        left, top, right, bottom = box
        for other in self.boxes:
            if left < other[2] and other[0] < right and top < other[3] and other[1] < bottom:
                return True
        return False


# --- scales --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    label: str
    values: list[Decimal | None]
    texts: list[str] | None = None  # each value as written, for its label

    def text(self, i: int) -> str:
        return self.texts[i] if self.texts else ""


@dataclass(frozen=True)
class Reference:
    """A level drawn across a chart (a target, the national average) with its label."""

    label: str
    value: Decimal


@dataclass(frozen=True)
class Scale:
    """A value axis with round ends and ticks (0, 20, 40 … rather than 13.7, 41.2)."""

    low: float
    high: float
    step: float

    @classmethod
    def around(cls, values: list[Decimal], *, from_zero: bool) -> "Scale":
        numbers = [float(v) for v in values]
        low, high = min(numbers), max(numbers)
        if from_zero:
            low, high = min(low, 0.0), max(high, 0.0)
        elif high - low <= FLAT_SPAN * max(abs(low), abs(high)):
            low, high = low - max(abs(low) * 0.05, 0.5), high + max(abs(high) * 0.05, 0.5)
        if low == high:
            high = low + 1.0
        step = 10 ** math.floor(math.log10(high - low))
        while (high - low) / step < 3:
            step /= 2
        while (high - low) / step > 6:
            step *= 2
        low = math.floor(low / step + 1e-9) * step
        high = math.ceil(high / step - 1e-9) * step
        if min(numbers) >= 0 > low:
            low = 0.0  # no negative axis for rates and counts
        return cls(low, high, step)

    def ticks(self) -> list[float]:
        count = round((self.high - self.low) / self.step)
        return [self.low + i * self.step for i in range(count + 1)]

    def label(self, value: float, unit: str) -> str:
        places = max(0, -math.floor(math.log10(self.step) + 1e-9))
        return _accounting_minus(format_value(Decimal(f"{value:.{places}f}"), unit))

    def position(self, value, start: float, length: float) -> float:
        return start + (float(value) - self.low) / (self.high - self.low) * length


def _memoised(chart):
    """A chart drawn once per process for the same arguments: a branch page draws a hundred
    of them, and readers open the same pages again and again. Keyed by the arguments' repr
    (decimals, texts and frozen dataclasses: exact and cheap beside drawing)."""
    drawn = functools.lru_cache(maxsize=2048)(
        lambda key, args, kwargs: chart(*args.value, **kwargs.value)
    )

    @functools.wraps(chart)
    def memoised(*args, **kwargs):
        return drawn(repr((args, sorted(kwargs.items()))), _Unhashed(args), _Unhashed(kwargs))

    memoised.cache_clear = drawn.cache_clear
    return memoised


class _Unhashed:
    """Arguments carried past lru_cache, which keys on the repr beside them."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __hash__(self):
        return 0

    def __eq__(self, other):
        return True


def _html(template: str, *args) -> SafeString:
    """format_html with coordinates written to one decimal place.

    A page draws thousands of these parts: numbers need no escaping and text is escaped
    the way django.utils.html.escape does, without its lazy-string wrapper.
    """
    return mark_safe(template.format(*map(_escaped, args)))


def _escaped(value) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _svg(
    width: int, height: int, title: str, css_class: str, parts: list[str], size: int = FONT_SIZE
) -> SafeString:
    return format_html(
        '<svg class="chart-svg {}" viewBox="0 0 {} {}" width="{}" height="{}" font-size="{}"'
        ' role="img"><title>{}</title>{}</svg>',
        css_class,
        width,
        height,
        width,
        height,
        size,
        title,
        mark_safe("".join(parts)),
    )


# --- charts --------------------------------------------------------------------------------


@_memoised
def line_chart(
    x_labels: list[str],
    series: list[Series],
    *,
    unit: str,
    title: str,
    reference: Reference | None = None,
) -> SafeString:
    """Lines over months with a value axis, a legend, values written at the points where
    they fit, and an optional reference line with its label. The first series is the one
    read first: its labels are placed before the others'."""
    values = [v for s in series for v in s.values if v is not None]
    if not values or not x_labels:
        return SafeString("")
    if reference:
        values.append(reference.value)
    scale = Scale.around(values, from_zero=False)
    tick_labels = [(tick, scale.label(tick, unit)) for tick in scale.ticks()]
    width, height = 640, 210
    left = 10 + max(text_width(text, FONT_SIZE) for _, text in tick_labels)
    right, top, bottom = 14, 48, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(x_labels) - 1, 1)
    labels = Labels(width, height, FONT_SIZE)
    size = FONT_SIZE

    def x(i: int) -> float:
        return left + i * step

    def y(value) -> float:
        return scale.position(value, top + plot_h, -plot_h)

    parts = []
    for tick, text in tick_labels:
        parts.append(
            _html(
                '<line class="chart-grid" x1="{}" y1="{}" x2="{}" y2="{}"/>',
                float(left),
                y(tick),
                float(left + plot_w),
                y(tick),
            )
        )
        labels.place(text, "chart-tick", [Spot(left - 6, y(tick) + 4, "end")])
    for i, text in enumerate(x_labels):
        labels.place(text, "chart-tick", [Spot(x(i), height - 4)])

    legend_x = 4.0
    for number, line in enumerate(series):
        css = f"chart-series chart-series-{number}"
        parts.append(
            _html(
                '<line class="{}" x1="{}" y1="12" x2="{}" y2="12"/>',
                css,
                legend_x,
                legend_x + 18,
            )
        )
        labels.place(line.label, f"chart-legend {css}", [Spot(legend_x + 22, 16, "start")])
        legend_x += 34 + text_width(line.label, size)

    if reference:
        level = y(reference.value)
        parts.append(
            _html(
                '<line class="chart-reference" x1="{}" y1="{}" x2="{}" y2="{}">'
                "<title>{}</title></line>",
                float(left),
                level,
                float(left + plot_w),
                level,
                reference.label,
            )
        )
        above, below = level - 4, level + ASCENT * size + 3
        labels.place(
            reference.label,
            "chart-reference-label",
            [
                Spot(left + plot_w, above, "end"),
                Spot(left + plot_w, below, "end"),
                Spot(left + 4, above, "start"),
                Spot(left + 4, below, "start"),
            ],
        )

    points = []
    for number, line in enumerate(series):
        css = f"chart-series chart-series-{number}"
        parts.extend(
            _polyline(
                css, [(x(i), y(v)) if v is not None else None for i, v in enumerate(line.values)]
            )
        )
        for i, value in enumerate(line.values):
            if value is not None:
                text = value_label(value, unit, line.text(i))
                points.append((number, css, i, value, text))
                parts.append(_point(css, x(i), y(value), f"{x_labels[i]} {line.label}", text))
    # The first series' values above their points, the others' below, else the other side.
    for number, _css, i, value, text in points:
        above = Spot(x(i), y(value) - 6)
        below = Spot(x(i), y(value) + ASCENT * size + 4)
        labels.place(text, "chart-value", [above, below] if number == 0 else [below, above])
    return _svg(width, height, title, "chart-line", parts + labels.parts)


@_memoised
def trend_chart(
    years: list[int],
    values: list[Decimal],
    *,
    unit: str,
    title: str,
    texts: list[str] | None = None,
) -> SafeString:
    """A small line over fiscal years, each value written above its point where it fits
    (fits a cell); `texts` are the values as written, for their labels."""
    if len(values) < 2:
        return SafeString("")
    # Room above the plot for a value over the top point, and below it for a value under
    # the lowest point clear of the years.
    width, height = 168, 68
    left, right, top, bottom = 22, 22, 18, 18
    plot_w, plot_h = width - left - right, height - top - bottom
    scale = Scale.around(values, from_zero=False)
    step = plot_w / (len(values) - 1)
    labels = Labels(width, height, SMALL_FONT_SIZE)

    def x(i: int) -> float:
        return left + i * step

    def y(value) -> float:
        return scale.position(value, top + plot_h, -plot_h)

    parts = [
        _html(
            '<line class="chart-axis" x1="{}" y1="{}" x2="{}" y2="{}"/>',
            float(left - 8),
            float(top + plot_h + 2),
            float(left + plot_w + 8),
            float(top + plot_h + 2),
        )
    ]
    parts.extend(
        _polyline("chart-series chart-series-0", [(x(i), y(v)) for i, v in enumerate(values)])
    )
    # The newest year first: it is the one read.
    order = sorted(range(len(values)), key=lambda i: (i != len(values) - 1, i))
    for i in order:
        text = value_label(values[i], unit, texts[i] if texts else "")
        parts.append(
            _point("chart-series chart-series-0", x(i), y(values[i]), f"{years[i]}年度", text)
        )
        year_baseline = height - DESCENT * SMALL_FONT_SIZE - 1
        if labels.place(str(years[i]), "chart-tick", [Spot(x(i), year_baseline)]):
            labels.place(
                text,
                "chart-value",
                [Spot(x(i), y(values[i]) - 5), Spot(x(i), y(values[i]) + 13)],
            )
    return _svg(width, height, title, "chart-small", parts + labels.parts, SMALL_FONT_SIZE)


TARGET_LEGEND = "目標（各支部）"


@_memoised
def bar_chart(
    rows: list[tuple[str, Decimal, Decimal | None]],
    *,
    unit: str,
    title: str,
    reference: Reference | None = None,
    texts: list[tuple[str, str]] | None = None,
) -> SafeString:
    """Horizontal bars from zero, one per row in the order given, each row's label at its
    left and value in a column at the right (no line runs through them); a row's own
    target (when it has one in the same unit) is a short mark across its bar. `texts` are
    each row's value as written and its target as shown, for labels and tooltips."""
    if not rows:
        return SafeString("")
    values = [value for _, value, _ in rows] + [t for _, _, t in rows if t is not None]
    if reference:
        values.append(reference.value)
    scale = Scale.around(values, from_zero=True)
    size = FONT_SIZE
    shown = [
        (label, value_label(value, unit, texts[i][0] if texts else ""))
        for i, (label, value, _) in enumerate(rows)
    ]
    bar_h, gap = 16, 6
    left = 12 + max(text_width(label, size) for label, _ in shown)
    right = 16 + max(text_width(text, size) for _, text in shown)
    top, bottom = 50, 24
    width = 640
    plot_w = width - left - right
    height = top + bottom + len(rows) * (bar_h + gap)
    labels = Labels(width, height, size)

    def x(value) -> float:
        return scale.position(value, left, plot_w)

    parts = []
    ticks = scale.ticks()
    for tick in ticks:
        parts.append(
            _html(
                '<line class="chart-grid" x1="{}" y1="{}" x2="{}" y2="{}"/>',
                x(tick),
                float(top - 4),
                x(tick),
                float(height - bottom),
            )
        )
    # The ends of the axis first, then the ticks between them where they fit.
    for tick in [ticks[0], ticks[-1], *ticks[1:-1]]:
        labels.place(scale.label(tick, unit), "chart-tick", [Spot(x(tick), float(height - 6))])
    zero = x(0)
    has_target = False
    for i, ((label, value, target), (_, text)) in enumerate(zip(rows, shown, strict=True)):
        row_y = float(top + i * (bar_h + gap))
        start, end = sorted((zero, x(value)))
        parts.append(
            _html(
                '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}">'
                "<title>{} {}</title></rect>",
                start,
                row_y,
                max(end - start, 0.5),
                bar_h,
                label,
                text,
            )
        )
        baseline = row_y + bar_h - 4
        labels.place(label, "chart-tick", [Spot(left - 6, baseline, "end")])
        labels.place(text, "chart-value", [Spot(width - 4, baseline, "end")])
        if target is not None:
            has_target = True
            target_text = texts[i][1] if texts else ""
            parts.append(
                _html(
                    '<line class="chart-target" x1="{}" y1="{}" x2="{}" y2="{}">'
                    "<title>{} 目標：{}</title></line>",
                    x(target),
                    row_y - 2,
                    x(target),
                    row_y + bar_h + 2,
                    label,
                    target_text or format_number(target, unit),
                )
            )
    parts.append(
        _html(
            '<line class="chart-axis" x1="{}" y1="{}" x2="{}" y2="{}"/>',
            zero,
            float(top - 4),
            zero,
            float(height - bottom),
        )
    )
    # The legend of the marks in the top row, the reference's label in the row below it.
    legend_x = 4.0
    if has_target:
        parts.append(
            _html(
                '<line class="chart-target chart-legend-mark" x1="{}" y1="5" x2="{}" y2="17"/>',
                8.0,
                8.0,
            )
        )
        labels.place(TARGET_LEGEND, "chart-legend", [Spot(14, 15, "start")])
        legend_x = 24 + text_width(TARGET_LEGEND, size)
    if reference:
        level = x(reference.value)
        parts.append(
            _html(
                '<line class="chart-reference" x1="{}" y1="{}" x2="{}" y2="{}">'
                "<title>{}</title></line>",
                level,
                float(top - 6),
                level,
                float(height - bottom),
                reference.label,
            )
        )
        spots = [Spot(level, top - 12), Spot(level + 4, top - 12, "start")]
        spots += [Spot(level - 4, top - 12, "end"), Spot(legend_x, 15, "start")]
        labels.place(reference.label, "chart-reference-label", spots)
    return _svg(width, height, title, "chart-bars", parts + labels.parts)


def _polyline(css: str, points: list[tuple[float, float] | None]) -> list[SafeString]:
    """One polyline per run of consecutive points: a missing month leaves a gap."""
    runs, current = [], []
    for point in [*points, None]:
        if point is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(f"{point[0]:.1f},{point[1]:.1f}")
    return [_html('<polyline class="{}" points="{}"/>', css, " ".join(run)) for run in runs]


def _point(css: str, x: float, y: float, label: str, text: str) -> SafeString:
    return _html(
        '<circle class="{}" cx="{}" cy="{}" r="3"><title>{} {}</title></circle>',
        css,
        x,
        y,
        label,
        text,
    )
