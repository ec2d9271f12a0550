"""The national map of 47 branches × 60 indicators printed by Chromium: the PDF's pages are
A3 landscape, and with print media on a page-sized screen every column's heading lies
inside the page width and every branch is one row of the same height."""

import io
import unicodedata
from pathlib import Path

import pytest
from django.utils.text import slugify

from branches.models import Branch
from kpis.models import BranchPlan, FiscalYear, Indicator, Kpi, Measure, Pillar
from kpis.numbering import measure_sort_key
from tests import factories

PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory
# The printed map for people to look at (git-ignored, as the layout test's screenshots).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
MM = 96 / 25.4  # CSS pixels per millimetre
A3_LANDSCAPE_MM = (420, 297)
A3_LANDSCAPE_PT = (420 * 72 / 25.4, 297 * 72 / 25.4)
# Long names as the national catalogue writes them, and actuals as branches write them.
NAMES = [
    "サービススタンダード達成率",
    "現金給付等の申請に係る郵送化率",
    "柔道整復施術療養費の多部位頻回申請割合",
    "協会のレセプト点検の査定率",
    "再審査レセプト1件当たり査定額",
    "資格喪失後1か月以内の保険証回収率",
    "返納金債権の回収率（不当請求除く）",
    "生活習慣病予防健診実施率",
    "事業者健診データ取得率",
    "被扶養者の特定健診実施率",
    "健診受診月から10か月以内の医療機関受診割合",
    "ジェネリック医薬品使用割合",
    "健康宣言事業所数",
    "一般競争入札に占める一者応札案件の割合",
    "健康保険委員委嘱事業所の被保険者割合",
]
VARIANTS = ["", "（被保険者）", "（被扶養者）", "（任意継続）"]
TEXTS = [
    ("96.5%以上", "97.1%"),
    ("0.94%以下", "0.83% (R6.2現在)"),
    ("53.8%以上", "42.6%"),
    ("3,500円以上", "3,618円"),
    ("1,200事業所以上", "1,198事業所"),
    ("対前年度以上", "13.1%"),
    ("実施", "実施"),
    ("意見発信の実施", "病床機能報告の定量基準の分析結果に対して意見発信を行った"),
]

pytestmark = pytest.mark.django_db(transaction=True)


def national_year(year=2024):
    """47 branches × 60 indicators in three pillars, every plan published, outlooks on
    every third KPI; every other branch writes short actuals only, the others every kind,
    up to a sentence. Written in bulk (the pages read rows, not history)."""
    fiscal_year = FiscalYear.objects.create(start_year=year)
    pillars = Pillar.national()
    indicators = Indicator.objects.bulk_create(
        Indicator(name=f"{name}{variant}", slug=slugify(f"{name}{variant}", allow_unicode=True))
        for variant in VARIANTS
        for name in NAMES
    )
    branches = list(Branch.objects.all())
    BranchPlan.objects.bulk_create(
        BranchPlan(branch=branch, fiscal_year=fiscal_year, status=BranchPlan.Status.PUBLISHED)
        for branch in branches
    )
    measures = Measure.objects.bulk_create(
        Measure(
            branch=branch,
            fiscal_year=fiscal_year,
            pillar=pillars[number % 3 + 1],
            number_label=f"({number + 1})",
            sort_key=measure_sort_key(f"({number + 1})"),
            title=f"施策{number + 1}",
        )
        for branch in branches
        for number in range(20)
    )
    kpis = []
    for b, branch in enumerate(branches):
        for i, indicator in enumerate(indicators):
            target, actual = TEXTS[(b + i) % len(TEXTS) if b % 2 else 0]
            kpi = Kpi(
                branch=branch,
                fiscal_year=fiscal_year,
                indicator=indicator,
                measure=measures[b * 20 + i // 3],
                order=i % 3,
                target_text=target,
                actual_text=actual,
                outlook_mark="△" if (b + i) % 3 == 0 else "",
            )
            kpi.evaluate_texts()
            kpis.append(kpi)
    Kpi.objects.bulk_create(kpis, batch_size=500)
    return fiscal_year


# Heading boxes, and each body row's height, number of cells and branch name.
LAYOUT_JS = """() => {
  const box = element => element.getBoundingClientRect();
  const table = document.querySelector("table.national-map");
  return {
    width: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    headings: [...table.tHead.querySelectorAll("th")].map(th => {
      const b = box(th);
      return [th.textContent.trim(), b.left, b.right];
    }),
    rows: [...table.tBodies[0].rows].map(tr => [
      tr.querySelector("th").textContent.trim(), box(tr).height, tr.cells.length,
    ]),
    marks: [...table.querySelectorAll("td .mk")].filter(mark =>
      box(mark).right > box(mark.closest("td")).right + 0.5).length,
  };
}"""


def test_map_prints_on_a3_landscape_one_row_per_branch_no_column_cut_off(live_server, new_page):
    from pypdf import PdfReader

    fiscal_year = national_year()
    admin = factories.admin_user()
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    width, height = (round(side * MM) for side in A3_LANDSCAPE_MM)
    page.set_viewport_size({"width": width, "height": height})
    response = page.goto(f"{live_server.url}/map/?year={fiscal_year.start_year}")
    assert response.status == 200
    page.emulate_media(media="print")
    layout = page.evaluate(LAYOUT_JS)

    assert layout["scrollWidth"] <= layout["width"]
    outside = [
        name for name, left, right in layout["headings"] if left < 0 or right > layout["width"]
    ]
    assert outside == [], f"見出しが用紙の幅からはみ出しています: {outside}"
    assert len(layout["headings"]) == 2 + 3 + 60  # 支部, 達成率, three pillars, 60 indicators
    names = [name for name, _height, _cells in layout["rows"]]
    assert len(names) == len(set(names)) == 47  # one row per branch
    assert {cells for _name, _height, cells in layout["rows"]} == {62}
    heights = [row_height for _name, row_height, _cells in layout["rows"]]
    assert max(heights) - min(heights) < 0.5, f"行の高さが揃っていません: {sorted(set(heights))}"
    assert layout["marks"] == 0  # every mark inside its cell

    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "national-map-a3.png")
    printed = page.pdf(prefer_css_page_size=True, print_background=True)
    (SCREENSHOTS / "national-map-a3.pdf").write_bytes(printed)
    pdf = PdfReader(io.BytesIO(printed))
    sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pdf.pages}
    assert sizes == {tuple(round(side) for side in A3_LANDSCAPE_PT)}
    # Extraction gives CJK compatibility forms (⾒ for 見): compared after NFKC.
    text = unicodedata.normalize("NFKC", "".join(p.extract_text() for p in pdf.pages))
    assert "見△" in text and "北海道" in text and "沖縄" in text
