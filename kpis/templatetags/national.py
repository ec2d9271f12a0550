"""The cells of head office's national pages, drawn in Python: `{% map_cells row columns %}`
(a branch on the national map) and `{% progress_cells row %}` (a branch's months on the
entry progress).

47 branches × 60 indicators are some three thousand cells; as template nodes they took most
of the page's time (as the branch page's month tables did, kpis/templatetags/monthly.py).
"""

import functools
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from kpis.progress import OVERDUE

register = template.Library()

_EMPTY = '<td class="c-empty"><div class="cell-box"></div></td>'


@register.simple_tag
def map_cells(row, columns: int) -> SafeString:
    """The cells of `row` (a kpis.nationalmap.MapRow): one per indicator column, or one
    cell across them all saying why the row shows no figures (未公表)."""
    if row.label:
        return mark_safe(
            f'<td colspan="{columns}" class="map-label">'
            f'<div class="cell-box">{escape(row.label)}</div></td>'
        )
    return mark_safe("".join(_cell(cell) if cell else _EMPTY for cell in row.cells))


@functools.lru_cache(maxsize=8192)
def _cell(cell) -> str:
    """Drawn once per process for the same cell (a frozen kpis.nationalmap.MapCell)."""
    outlook = ""
    if cell.outlook_mark:
        title = escape(f"着地見込み {cell.outlook_text}".strip())
        outlook = f'<span class="ol" title="{title}">見{escape(cell.outlook_mark)}</span>'
    return (
        f'<td class="c-{cell.style}"><div class="cell-box"><span class="mk">{escape(cell.mark)}'
        f'</span>{outlook}<br><span class="v">{escape(cell.actual)}</span></div></td>'
    )


@register.simple_tag
def progress_cells(row) -> SafeString:
    """A branch's months (a kpis.progress.BranchProgress): `n / m`, complete or overdue,
    overdue said in words as well as by colour."""
    return mark_safe("".join(_month(cell) for cell in row.cells))


def _month(cell) -> str:
    if cell.overdue:
        return (
            f'<td class="progress-cell overdue">{cell.text}'
            f'<span class="overdue-flag">{OVERDUE}</span></td>'
        )
    state = " complete" if cell.total and cell.complete else ""
    return f'<td class="progress-cell{state}">{cell.text}</td>'
