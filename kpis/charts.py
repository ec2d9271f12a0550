"""Small charts drawn as inline SVG on the server.

No JavaScript and nothing from a CDN: the markup prints like the rest of the page, and a
Content-Security-Policy without inline scripts leaves it alone. Colours come from classes
styled in static/css/pages.css. Values are also written as text (point labels, <title>
tooltips) because a chart on paper cannot be hovered.
"""

import html
import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from kpis.notation import as_written, format_value

# Values closer than this share of their size are drawn as one level: a float cannot place
# 7999999999.999999 and 8000000000 apart, and an axis between them would have no length.
FLAT_SPAN = 1e-9


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


@dataclass(frozen=True)
class Series:
    label: str
    values: list[Decimal | None]
    texts: list[str] | None = None  # each value as written, for its label

    def text(self, i: int) -> str:
        return self.texts[i] if self.texts else ""


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


def _svg(width: int, height: int, title: str, css_class: str, parts: list[str]) -> SafeString:
    return format_html(
        '<svg class="chart-svg {}" viewBox="0 0 {} {}" width="{}" height="{}" role="img">'
        "<title>{}</title>{}</svg>",
        css_class,
        width,
        height,
        width,
        height,
        title,
        mark_safe("".join(parts)),
    )


def line_chart(
    x_labels: list[str],
    series: list[Series],
    *,
    unit: str,
    title: str,
    reference: tuple[str, Decimal] | tuple[str, Decimal, str] | None = None,
) -> SafeString:
    """Lines over months with a value axis, a legend and an optional reference line
    (label, value and optionally the value as written)."""
    values = [v for s in series for v in s.values if v is not None]
    if not values or not x_labels:
        return SafeString("")
    if reference:
        values.append(reference[1])
    width, height = 620, 190
    left, right, top, bottom = 64, 92, 26, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    scale = Scale.around(values, from_zero=False)
    step = plot_w / max(len(x_labels) - 1, 1)

    def x(i: int) -> float:
        return left + i * step

    def y(value) -> float:
        return scale.position(value, top + plot_h, -plot_h)

    parts = []
    for tick in scale.ticks():
        parts.append(
            _html(
                '<line class="chart-grid" x1="{}" y1="{}" x2="{}" y2="{}"/>'
                '<text class="chart-tick" x="{}" y="{}" text-anchor="end">{}</text>',
                float(left),
                y(tick),
                float(left + plot_w),
                y(tick),
                float(left - 6),
                y(tick) + 4,
                scale.label(tick, unit),
            )
        )
    for i, label in enumerate(x_labels):
        parts.append(
            _html(
                '<text class="chart-tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                x(i),
                height - 6,
                label,
            )
        )
    if reference:
        label, value, *text = reference
        parts.append(
            _html(
                '<line class="chart-reference" x1="{}" y1="{}" x2="{}" y2="{}"/>'
                '<text class="chart-reference-label" x="{}" y="{}">{} {}</text>',
                float(left),
                y(value),
                float(left + plot_w),
                y(value),
                float(left + plot_w + 6),
                y(value) + 4,
                label,
                value_label(value, unit, *text),
            )
        )
    legend_x = left
    for number, line in enumerate(series):
        css = f"chart-series chart-series-{number}"
        parts.append(
            _html(
                '<line class="{}" x1="{}" y1="10" x2="{}" y2="10"/>'
                '<text class="chart-legend" x="{}" y="14">{}</text>',
                css,
                float(legend_x),
                float(legend_x + 18),
                float(legend_x + 22),
                line.label,
            )
        )
        legend_x += 36 + 13 * len(line.label)
        parts.extend(
            _polyline(
                css, [(x(i), y(v)) if v is not None else None for i, v in enumerate(line.values)]
            )
        )
        for i, value in enumerate(line.values):
            if value is not None:
                parts.append(
                    _point(
                        css,
                        x(i),
                        y(value),
                        f"{x_labels[i]} {line.label}",
                        value_label(value, unit, line.text(i)),
                    )
                )
    return _svg(width, height, title, "chart-line", parts)


def trend_chart(
    years: list[int],
    values: list[Decimal],
    *,
    unit: str,
    title: str,
    texts: list[str] | None = None,
) -> SafeString:
    """A small line over fiscal years, every value written above its point (fits a cell);
    `texts` are the values as written, for their labels."""
    if len(values) < 2:
        return SafeString("")
    width, height = 168, 62
    left, right, top, bottom = 22, 22, 16, 14
    plot_w, plot_h = width - left - right, height - top - bottom
    scale = Scale.around(values, from_zero=False)
    step = plot_w / (len(values) - 1)

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
    label_every = 1 if len(values) <= 4 else len(values) - 1
    for i, (year, value) in enumerate(zip(years, values, strict=True)):
        text = value_label(value, unit, texts[i] if texts else "")
        parts.append(_point("chart-series chart-series-0", x(i), y(value), f"{year}年度", text))
        if i % label_every == 0 or i == len(values) - 1:
            parts.append(
                _html(
                    '<text class="chart-value" x="{}" y="{}" text-anchor="middle">{}</text>'
                    '<text class="chart-tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                    x(i),
                    y(value) - 5,
                    text,
                    x(i),
                    float(height - 2),
                    year,
                )
            )
    return _svg(width, height, title, "chart-small", parts)


def bar_chart(
    rows: list[tuple[str, Decimal, Decimal | None]],
    *,
    unit: str,
    title: str,
    reference: tuple[str, Decimal] | tuple[str, Decimal, str] | None = None,
    texts: list[tuple[str, str]] | None = None,
) -> SafeString:
    """Horizontal bars from zero, one per row in the order given, values written at the end;
    a row's own target (when it has one in the same unit) is a short mark across its bar.
    `texts` are each row's value and target as written, for their labels."""
    if not rows:
        return SafeString("")
    values = [value for _, value, _ in rows] + [t for _, _, t in rows if t is not None]
    if reference:
        values.append(reference[1])
    scale = Scale.around(values, from_zero=True)
    bar_h, gap = 16, 6
    left, right, top, bottom = 76, 96, 24, 20
    width = 640
    plot_w = width - left - right
    height = top + bottom + len(rows) * (bar_h + gap)

    def x(value) -> float:
        return scale.position(value, left, plot_w)

    parts = []
    for tick in scale.ticks():
        parts.append(
            _html(
                '<line class="chart-grid" x1="{}" y1="{}" x2="{}" y2="{}"/>'
                '<text class="chart-tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                x(tick),
                float(top - 4),
                x(tick),
                float(height - bottom),
                x(tick),
                float(height - 6),
                scale.label(tick, unit),
            )
        )
    zero = x(0)
    for i, (label, value, target) in enumerate(rows):
        row_y = float(top + i * (bar_h + gap))
        start, end = sorted((zero, x(value)))
        text, target_text = texts[i] if texts else ("", "")
        text = value_label(value, unit, text)
        parts.append(
            _html(
                '<text class="chart-tick" x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}">'
                "<title>{} {}</title></rect>"
                '<text class="chart-value" x="{}" y="{}">{}</text>',
                float(left - 6),
                row_y + bar_h - 4,
                label,
                start,
                row_y,
                max(end - start, 0.5),
                bar_h,
                label,
                text,
                max(end, zero) + 4,
                row_y + bar_h - 4,
                text,
            )
        )
        if target is not None:
            parts.append(
                _html(
                    '<line class="chart-target" x1="{}" y1="{}" x2="{}" y2="{}">'
                    "<title>{} 目標 {}</title></line>",
                    x(target),
                    row_y - 2,
                    x(target),
                    row_y + bar_h + 2,
                    label,
                    value_label(target, unit, target_text),
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
    if reference:
        label, value, *text = reference
        parts.append(
            _html(
                '<line class="chart-reference" x1="{}" y1="{}" x2="{}" y2="{}"/>'
                '<text class="chart-reference-label" x="{}" y="{}" text-anchor="middle">'
                "{} {}</text>",
                x(value),
                float(top - 4),
                x(value),
                float(height - bottom),
                x(value),
                float(top - 10),
                label,
                value_label(value, unit, *text),
            )
        )
    return _svg(width, height, title, "chart-bars", parts)


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
