"""The council's reading pages and the plan page at a laptop's width (1366 px) and a phone's
(390 px), in Chromium, over the demo data: no page is wider than the screen (wide tables
scroll inside their box) and no two text labels of a chart overlap.

With KPI_SCREENSHOTS=1, full-page screenshots of every page and width go to screenshots/ at
the repository root (git-ignored) for people to look at: <page>-<width>.jpg. They are off by
default: drawing pages up to 34,000 px tall took a third of the test.
"""

import os
from pathlib import Path

import pytest
from django.core.management import call_command

PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
TAKE_SCREENSHOTS = bool(os.environ.get("KPI_SCREENSHOTS"))
WIDTHS = (1366, 390)
# Chart labels may touch (antialiased edges, a shared baseline), not overlap.
TOLERANCE = 0.5

READING_PAGES = {
    "branch-saitama-2023": "/branches/11/2023/",
    "branch-gunma-2023": "/branches/10/2023/",  # the monthly charts of the progress sheet
    "kpi-table": "/kpis/",
    "comparison-generics-2023": "/indicators/ジェネリック医薬品使用割合/2023/",
}
PLAN_PAGE = {"plan-chiba-2024": "/branches/12/2024/plan/"}

# Every non-empty <text> of every chart, grouped by chart: [[label, left, top, right, bottom]].
CHART_LABELS_JS = """() => [...document.querySelectorAll("main svg")].map(svg =>
  [...svg.querySelectorAll("text")]
    .filter(text => text.textContent.trim())
    .map(text => {
      const box = text.getBoundingClientRect();
      return [text.textContent.trim(), box.left, box.top, box.right, box.bottom];
    }))"""

pytestmark = pytest.mark.django_db(transaction=True)


def overlapping(labels):
    """Pairs of labels whose boxes intersect by more than TOLERANCE in both directions."""
    pairs = []
    for i, (text_a, *a) in enumerate(labels):
        for text_b, *b in labels[i + 1 :]:
            across = min(a[2], b[2]) - max(a[0], b[0])
            down = min(a[3], b[3]) - max(a[1], b[1])
            if across > TOLERANCE and down > TOLERANCE:
                pairs.append(f"「{text_a}」と「{text_b}」（{across:.1f}×{down:.1f} px）")
    return pairs


def layout_problems(pages, live_server, browser, council):
    """What does not fit on `pages` ({screenshot name: path}) at each width, as readable lines;
    with KPI_SCREENSHOTS set, takes the screenshots on the way."""
    call_command("load_demo", verbosity=0)
    if TAKE_SCREENSHOTS:
        SCREENSHOTS.mkdir(exist_ok=True)
    problems = []
    context = browser.new_context(locale="ja-JP")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", council.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for name, path in pages.items():
                response = page.goto(f"{live_server.url}{path}")
                assert response.status == 200, f"{path}: {response.status}"
                if TAKE_SCREENSHOTS:  # JPEG: PNG of a 34,000 px page took most of the test
                    shot = SCREENSHOTS / f"{name}-{width}.jpg"
                    page.screenshot(path=shot, type="jpeg", quality=70, full_page=True)
                page_width = page.evaluate("document.documentElement.scrollWidth")
                if page_width > page.evaluate("window.innerWidth"):
                    problems.append(f"{path} {width} px: ページの幅が {page_width} px です")
                for number, labels in enumerate(page.evaluate(CHART_LABELS_JS), start=1):
                    for pair in overlapping(labels):
                        problems.append(f"{path} {width} px: グラフ{number}の{pair}が重なる")
    finally:
        context.close()
    return problems


def test_reading_pages_and_the_plan_fit_the_screen_and_chart_labels_do_not_overlap(
    live_server, browser, council
):
    """One test for both documents: each loads the demo, which is most of its time."""
    problems = layout_problems(READING_PAGES | PLAN_PAGE, live_server, browser, council)
    assert not problems, "\n".join(problems)
