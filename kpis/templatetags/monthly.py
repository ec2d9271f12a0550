"""`{% monthly_table row fiscal_year %}`: a KPI's months as a table (each series and breakdown
a row, the written year figure at its end).

Drawn in Python rather than by template loops: a branch page at national scale has some
three thousand month cells, which took half the page's rendering as template nodes; and a
table is drawn once per process for the same texts, as the charts are.
"""

import functools

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from kpis.notation import as_written

register = template.Library()


@register.simple_tag
def monthly_table(row, fiscal_year) -> SafeString:
    """The table of `row` (a kpis.summary.KpiView) in `fiscal_year`'s months."""
    series = tuple((s.label, tuple(s.texts), s.figure, s.figure_label) for s in row.monthly_rows)
    breakdowns = tuple(
        ((b.label, b.series, b.note), tuple(b.texts), b.figure, b.figure_label)
        for b in row.breakdown_rows
    )
    return _table(
        fiscal_year.era_label, fiscal_year.months, row.has_year_figures, series, breakdowns
    )


@functools.lru_cache(maxsize=2048)
def _table(era: str, months: tuple, with_figures: bool, series: tuple, breakdowns: tuple):
    head = "".join(f'<th class="num">{month}月</th>' for month in months)
    if with_figures:
        head += '<th class="num">年度計</th>'
    parts = [
        '<table class="monthly-values">',
        f'<caption class="small muted">月次実績（{escape(era)}）</caption>',
        f"<thead><tr><th></th>{head}</tr></thead>",
        "<tbody>",
        *(
            _row(escape(label), texts, figure, heading, with_figures)
            for label, texts, figure, heading in series
        ),
        "</tbody>",
    ]
    if breakdowns:
        parts.append('<tbody class="breakdowns">')
        parts.append(
            f'<tr><th colspan="{14 if with_figures else 13}" class="small muted">内訳</th></tr>'
        )
        for (label, kind, note), texts, figure, heading in breakdowns:
            title = f'{escape(label)}<span class="small muted">（{escape(kind)}）</span>'
            if note:
                title += f'<div class="small muted">{escape(note)}</div>'
            parts.append(_row(title, texts, figure, heading, with_figures))
        parts.append("</tbody>")
    parts.append("</table>")
    return mark_safe("".join(parts))


def _row(title: str, texts: tuple, figure: str, heading: str, with_figures: bool) -> str:
    """`title` is markup already."""
    cells = "".join(
        f'<td class="num">{escape(as_written(text)) if text else ""}</td>' for text in texts
    )
    if with_figures:
        shown = ""
        if figure:
            shown = (
                f"{escape(as_written(figure))}"
                f'<span class="small muted">（{escape(heading or "年計")}）</span>'
            )
        cells += f'<td class="num year-figure">{shown}</td>'
    return f"<tr><th>{title}</th>{cells}</tr>"
