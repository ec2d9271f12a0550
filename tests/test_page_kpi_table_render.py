"""The KPI table's rows as a reader sees them: each cell's text, links, badges and marks."""

import html
import re

import pytest
from django.urls import reverse

from kpis.models import BranchPlan
from tests import factories
from tests.factories_pages import BranchPlanFactory, plan_year

pytestmark = pytest.mark.django_db

_TBODY = re.compile(r"<tbody[^>]*>(.*?)</tbody>", re.S)
_ROW = re.compile(r"<tr([^>]*)>(.*?)</tr>", re.S)
_CELL = re.compile(r"<td([^>]*)>(.*?)</td>", re.S)
_TAG = re.compile(r"<[^>]+>")


def body_rows(text: str) -> list[list[tuple[str, str]]]:
    """Each body row as its cells: (attributes of the td, inner HTML, whitespace collapsed)."""
    body = _TBODY.search(text).group(1)
    return [
        [(attrs.strip(), " ".join(inner.split())) for attrs, inner in _CELL.findall(row)]
        for _, row in _ROW.findall(body)
    ]


def read(cell_html: str) -> str:
    """What a reader reads in a cell."""
    return html.unescape(_TAG.sub("", cell_html))


@pytest.fixture
def kpis():
    """埼玉 2023: a met KPI with an as-of note, one with no actual yet, one under a title
    someone wrote markup into."""
    BranchPlanFactory(branch=factories.branch("11"), fiscal_year__start_year=2023)
    health = factories.MeasureFactory(
        fiscal_year__start_year=2023,
        pillar__number=2,
        number=1,
        title="特定健診の推進",
        group="保健G",
        is_important=True,
        is_difficult=True,
    )
    factories.KpiFactory(
        measure=health,
        order=1,
        indicator=factories.IndicatorFactory(name="生活習慣病予防健診実施率", unit="%"),
        target_text="95.0%以上",
        actual_text="95.0% (R6.2現在)",
        previous_actual_text="93.0%",
        national_average_text="55.0%",
        national_rank=3,
    )
    factories.KpiFactory(
        measure=health,
        order=2,
        indicator=factories.IndicatorFactory(name="事業者健診データ取得率"),
        target_text="10.0%以上",
        actual_text="",
        previous_actual_text="",
        national_average_text="",
        national_rank=None,
    )
    odd = factories.MeasureFactory(
        fiscal_year__start_year=2023,
        pillar__number=2,
        number=2,
        title='<script>alert("x")</script>',
        group="",
    )
    factories.KpiFactory(
        measure=odd,
        indicator=factories.IndicatorFactory(name="ジェネリック使用割合"),
        target_text="80%以上",
        actual_text="79.5%",
        national_rank=12,
    )


@pytest.fixture
def reader(client, admin, kpis):
    client.force_login(admin)
    return client


def page(client, query=""):
    response = client.get(f"/kpis/{query}")
    assert response.status_code == 200
    return response.content.decode()


def test_each_row_reads_as_the_branch_wrote_it(reader):
    rows = [[read(inner) for _, inner in row] for row in body_rows(page(reader))]
    assert rows == [
        [
            "令和5年度 (2023)",
            "埼玉",
            "2",
            "(1) 特定健診の推進",
            "保健G",
            "重要困難",
            "生活習慣病予防健診実施率",
            "95.0%以上",
            "95.0%（R6.2現在）",
            "93.0%",
            "55.0%",
            "3位",
            "達成",
            "○",
        ],
        [
            "令和5年度 (2023)",
            "埼玉",
            "2",
            "(1) 特定健診の推進",
            "保健G",
            "重要困難",
            "事業者健診データ取得率",
            "10.0%以上",
            "—",
            "—",
            "—",
            "—",
            "—",
            "—",
        ],
        [
            "令和5年度 (2023)",
            "埼玉",
            "2",
            '(2) <script>alert("x")</script>',
            "—",
            "",
            "ジェネリック使用割合",
            "80%以上",
            "79.5%",
            "—",
            "—",
            "12位",
            "未達成",
            "△",
        ],
    ]


def test_cells_carry_links_badges_notes_and_marks(reader):
    met, unknown, missed = body_rows(page(reader))
    slug = "生活習慣病予防健診実施率"
    assert met == [
        ('class="nowrap"', '令和5年度 <span class="small muted">(2023)</span>'),
        ('class="nowrap"', f'<a href="{reverse("kpis:branch_year", args=["11", 2023])}">埼玉</a>'),
        ("", "2"),
        ("", "(1) 特定健診の推進"),
        ("", "保健G"),
        (
            "",
            '<span class="badge badge-important" title="重要度：高">重要</span>'
            '<span class="badge badge-difficult" title="困難度：高">困難</span>',
        ),
        (
            'class="indicator"',
            f'<a href="{reverse("kpis:indicator_compare", args=[slug, 2023])}">{slug}</a>',
        ),
        ("", "95.0%以上"),
        ('class="num"', '95.0%<span class="as-of">（R6.2現在）</span>'),
        ("", "93.0%"),
        ("", "55.0%"),
        ('class="num"', "3位"),
        ("", '<span class="achieved-yes">達成</span>'),
        ('class="center"', '<span class="mark mark-achieved" title="計画通り">○</span>'),
    ]
    assert unknown[12:] == [
        ("", '<span class="muted">—</span>'),
        ('class="center"', '<span class="mark mark-none" title="評価なし">—</span>'),
    ]
    assert missed[12:] == [
        ("", '<span class="achieved-no">未達成</span>'),
        ('class="center"', '<span class="mark mark-below" title="計画を下回る">△</span>'),
    ]


def test_a_measure_title_is_shown_as_text_never_as_markup(reader):
    text = page(reader)
    assert "<script" not in text
    assert "(2) &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text


def test_rows_alternate_and_sorting_reorders_them(reader):
    text = page(reader, "?sort=-national_rank")
    assert [attrs for attrs, _ in _ROW.findall(_TBODY.search(text).group(1))] == [
        ' class="even"',
        ' class="odd"',
        ' class="even"',
    ]
    ranks = [read(row[11][1]) for row in body_rows(text)]
    assert ranks == ["12位", "3位", "—"]
    header = re.search(r'<th class="desc orderable">\s*<a href="([^"]*)">全国順位</a>', text)
    assert header.group(1) == "?sort=national_rank"  # the next click sorts the other way


def test_pages_of_one_row_each(reader):
    text = page(reader, "?per_page=1&page=2")
    assert [read(row[6][1]) for row in body_rows(text)] == ["事業者健診データ取得率"]
    assert "全3件中 2–2件" in text
    assert 'href="?per_page=1&amp;page=1">前へ</a>' in text
    assert 'href="?per_page=1&amp;page=3">次へ</a>' in text


def test_no_rows_says_what_to_do(reader):
    rows = body_rows(page(reader, "?q=存在しない指標"))
    assert rows == [[('colspan="14"', "条件に合うKPIはありません。条件を変えてください。")]]


def test_council_reads_published_rows_only(client, council, kpis):
    BranchPlanFactory(
        branch=factories.branch("12"), fiscal_year__start_year=2023, status=BranchPlan.Status.DRAFT
    )
    factories.KpiFactory(
        measure__branch=factories.branch("12"), measure__fiscal_year__start_year=2023
    )
    client.force_login(council)
    branches = {read(row[1][1]) for row in body_rows(page(client))}
    assert branches == {"埼玉"}


def test_every_row_on_exactly_one_page_in_order(client, admin):
    """Pages past the middle are found from the end: together the pages are the table."""
    plan_year("11", 2022, measures=3, kpis=2)
    plan_year("11", 2023, measures=3, kpis=2)
    plan_year("12", 2023, measures=2, kpis=2)
    client.force_login(admin)

    def keys(query):
        response = client.get(f"/kpis/{query}")
        return [row.record.pk for row in response.context["table"].paginated_rows]

    whole = keys("?per_page=200")
    pages = [keys(f"?per_page=3&page={number}") for number in range(1, 7)]
    assert [len(rows) for rows in pages] == [3, 3, 3, 3, 3, 1]
    assert sum(pages, []) == whole
