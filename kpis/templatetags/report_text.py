"""Branch texts as the branch page shows them.

`{{ measure.challenges|text_blocks }}`: bulleted lines (■ …, ・ …) as a list, other lines as
paragraphs. `{{ kpi.target_text|unbroken }}`: a figure (`85.38%以上`) or a short value never
broken across lines. Both escape the text; only their own tags are markup.
"""

import re

from django import template
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()

# Marks that open a bullet at the start of a line; the strong ones (■ ◆ ●) also where a
# transcription ran several bullets into one line after a space ("■ 宣言数が伸びない ■ …").
# ・ and - only at a line's start: inside a line they join words (標準化・効率化).
LINE_BULLET = re.compile(r"^\s*([■□◆◇●▪•・･\-‐－※＊*])\s*(.*)$")
INLINE_BULLET = re.compile(r"\s+(?=[■□◆◇●▪•]\s*\S)")

# A value this short stays on one line whole (対前年度以上, 効果的な意見発信の実施).
SHORT = 12
# A figure: a number with what is written right after it (%, 円, 事業所, 以上) up to a space
# or bracket, with a leading minus sign (△) if any.
FIGURE = re.compile(r"[△▲+\-−]?\d[^\s()（）]*")


def _items(text: str) -> list[tuple[str, str]]:
    """(mark, text) per line or bullet; mark "" for a plain line."""
    items = []
    for line in str(text).splitlines():
        for part in INLINE_BULLET.split(line):
            if not part.strip():
                continue
            found = LINE_BULLET.match(part)
            items.append((found[1], found[2].strip()) if found else ("", part.strip()))
    return items


@register.filter
def text_blocks(text) -> str:
    """Consecutive bullets become one <ul>, consecutive plain lines one <p> (lines joined by
    <br>), in the order written; each bullet keeps its mark as written."""
    html, pending_mark = [], None
    for mark, body in _items(text or ""):
        kind = "ul" if mark else "p"
        if kind != pending_mark:
            if pending_mark:
                html.append(f"</{pending_mark}>")
            html.append('<ul class="text-list">' if mark else "<p>")
            pending_mark = kind
        elif kind == "p":
            html.append("<br>")
        if mark:
            html.append(format_html('<li><span class="bullet-mark">{}</span>{}</li>', mark, body))
        else:
            html.append(conditional_escape(body))
    if pending_mark:
        html.append(f"</{pending_mark}>")
    return mark_safe("".join(str(part) for part in html))


@register.filter
def unbroken(value) -> str:
    """The value with no line break inside a figure: short values whole, longer ones with
    each figure in a span that does not wrap."""
    text = str(value if value is not None else "")
    if len(text) <= SHORT:
        return format_html('<span class="nowrap">{}</span>', text)
    parts, position = [], 0
    for found in FIGURE.finditer(text):
        parts.append((text[position : found.start()], False))
        parts.append((found.group(), True))
        position = found.end()
    parts.append((text[position:], False))
    return format_html_join(
        "",
        "{}",
        (
            (format_html('<span class="nowrap">{}</span>', part) if figure else part,)
            for part, figure in parts
            if part
        ),
    )
