"""The entry grid in a real browser, used as Excel is: staff11 pastes twelve months copied
from Excel into a row, moves with the arrows and Enter, confirms a warning, and finds the
values after a reload; a colleague's change meanwhile is a conflict on that cell only. At
1366 px the whole grid is on screen and the header cells stay over their columns, also
when the grid is scrolled."""

import pytest

from kpis.models import MonthlyValue
from tests import factories
from tests import factories_entry as fe

PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory
MONTHS = [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]
PASTED = [f"9{n % 10}.{n}%" for n in range(12)]

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def kpis():
    """A rate to paste into and a second rate for the warning, first under pillar 1, and
    rows enough under three pillars for the grid to scroll."""
    made = []
    for n in range(16):
        unit = "%" if n < 2 else "件"
        kpi = fe.kpi(name=f"指標{n:02d}", unit=unit, aggregation="point" if n < 2 else "sum")
        kpi.measure.pillar = factories.PillarFactory(number=1 + n // 6)
        kpi.measure.number_label = f"({n + 1})"
        kpi.measure.save()
        made.append(kpi)
    return made


def cell(kpi, month):
    return f"#id_c{kpi.pk}_{month}"


def focused(page):
    return page.evaluate("document.activeElement.id")


def paste(page, selector, text):
    """What Chromium dispatches when Excel's copy is pasted (Ctrl+V) into the cell."""
    page.focus(selector)
    page.evaluate(
        """([selector, text]) => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            const event = new ClipboardEvent(
                "paste", {clipboardData: data, bubbles: true, cancelable: true});
            document.querySelector(selector).dispatchEvent(event);
        }""",
        [selector, text],
    )


BOXES = "els => els.map(e => { const b = e.getBoundingClientRect(); return [b.x, b.width]; })"


def boxes(page, selector):
    return page.eval_on_selector_all(selector, BOXES)


def assert_header_over_columns(page, row_kpi):
    """Each header cell's box has the x and width of its column's cell in `row_kpi`'s row."""
    header = boxes(page, "table.entry-grid thead th")
    row = page.locator(cell(row_kpi, 4)).locator("xpath=ancestor::tr")
    body = [row.locator("th").bounding_box()] + [
        td.bounding_box() for td in row.locator("td").all()
    ]
    assert len(header) == len(body) == 16
    for (x, width), box in zip(header, body, strict=True):
        assert abs(x - box["x"]) < 1 and abs(width - box["width"]) < 1


def test_paste_move_warn_conflict_and_layout(live_server, new_page, staff_11, manager_11):
    rate, second_rate, *counts = kpis()
    grid = f"{live_server.url}{fe.grid_url()}"
    page = new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server, "staff11")
    page.goto(grid)

    # Twelve months copied from Excel: tab-separated, CRLF, a trailing newline.
    paste(page, cell(rate, 4), "\t".join(PASTED) + "\r\n")
    row = page.locator(cell(rate, 4)).locator("xpath=ancestor::tr")
    page.wait_for_function(
        "row => row.querySelectorAll('td.is-saved').length === 12", arg=row.element_handle()
    )
    assert [page.input_value(cell(rate, m)) for m in MONTHS] == PASTED

    # The colleague opens the grid now and changes June.
    other = new_page()
    log_in(other, live_server, "manager11")
    other.goto(grid)
    other.fill(cell(rate, 6), "88%")
    other.keyboard.press("Enter")
    other.wait_for_selector(f"td.is-saved >> {cell(rate, 6)}")

    # Arrows, Enter and Shift-Enter move as in Excel; Enter never submits.
    page.focus(cell(rate, 4))
    page.keyboard.press("ArrowDown")
    assert focused(page) == cell(second_rate, 4)[1:]
    page.keyboard.press("ArrowRight")
    assert focused(page) == cell(second_rate, 5)[1:]
    page.keyboard.type("△2")
    page.keyboard.press("ArrowLeft")  # inside the text: the caret moves, not the cell
    assert focused(page) == cell(second_rate, 5)[1:]
    page.keyboard.press("Enter")
    assert focused(page) == cell(counts[0], 5)[1:]
    page.keyboard.press("Shift+Enter")
    assert focused(page) == cell(second_rate, 5)[1:]
    assert page.url == grid
    # While an input method composes, Enter is its own: nothing moves.
    composing = page.evaluate(
        """() => {
            const event = new KeyboardEvent("keydown",
                {key: "Enter", keyCode: 229, isComposing: true, bubbles: true, cancelable: true});
            document.activeElement.dispatchEvent(event);
            return event.defaultPrevented;
        }"""
    )
    assert composing is False and focused(page) == cell(second_rate, 5)[1:]

    # △2 in a rate: a warning on that cell, saved once confirmed.
    warning = page.locator(f"td.is-warning:has({cell(second_rate, 5)})")
    assert "率が0%未満です" in warning.locator(".cell-note").inner_text()
    warning.get_by_role("button", name="警告を確認して保存").click()
    page.wait_for_selector(f"td.is-saved >> {cell(second_rate, 5)}")

    # A block of two rows and two columns fills down as well as right, and not past the grid.
    paste(page, cell(counts[0], 2), "1\t2\t3\r\n4\t5\t6\r\n")
    page.wait_for_function("() => document.querySelectorAll('td.is-saved').length === 12 + 5")
    assert [page.input_value(cell(k, m)) for k in counts[:2] for m in (2, 3)] == list("1245")

    # staff11 still holds June's old version: a conflict on that cell only.
    page.fill(cell(rate, 6), "89%")
    page.keyboard.press("Tab")
    assert focused(page) == cell(rate, 7)[1:]
    conflict = page.locator(f"td.is-conflict:has({cell(rate, 6)})")
    assert "「88%」" in conflict.locator(".cell-note").inner_text()
    assert "manager11" in conflict.locator(".cell-note").inner_text()
    assert page.locator("td.is-conflict").count() == 1
    assert page.input_value(cell(rate, 6)) == "89%"

    page.reload()
    expected = dict(zip(MONTHS, PASTED, strict=True)) | {6: "88%"}
    assert [page.input_value(cell(rate, m)) for m in MONTHS] == list(expected.values())
    assert page.input_value(cell(second_rate, 5)) == "△2"
    assert page.input_value(cell(counts[1], 3)) == "5"
    assert MonthlyValue.objects.get(kpi=rate, month=6).text == "88%"

    # 1366 px: every column on screen, the header over its columns.
    for x, width in boxes(page, "table.entry-grid thead th"):
        assert x >= 0 and x + width <= 1366
    assert_header_over_columns(page, counts[0])

    # Scrolled down (and, narrower, right): the header stays on top, over its columns, and
    # the KPI column at the left, the header's first cell with it.
    for width in (1366, 1000):
        page.set_viewport_size({"width": width, "height": 600})
        page.eval_on_selector(".grid-scroll", "box => box.scrollTo(400, 300)")
        box = page.locator(".grid-scroll").bounding_box()
        assert page.eval_on_selector(".grid-scroll", "box => box.scrollTop") > 0
        if width == 1000:
            assert page.eval_on_selector(".grid-scroll", "box => box.scrollLeft") > 0
        top_left = page.locator("table.entry-grid thead th").first.bounding_box()
        assert abs(top_left["y"] - box["y"] - 1) < 2 and abs(top_left["x"] - box["x"] - 1) < 2
        assert_header_over_columns(page, counts[-1])
