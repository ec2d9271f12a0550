"""The preview says row by row what a file changes: each KPI, measure and monthly row, old →
new, with filters (changed / new / warnings) and pages, in a fixed number of queries."""

import pytest
from django.urls import reverse

from imports import diff, pipeline
from tests.factories_imports import (
    MONTHLY_HEADER,
    kpi_row,
    load,
    monthly_row,
    xlsx,
)

pytestmark = pytest.mark.django_db


def kpis(count, actual="{n}%"):
    return [
        kpi_row(**{"KPI指標": f"指標{n}", "目標": f"{n}%以上", "実績": actual.format(n=n)})
        for n in range(1, count + 1)
    ]


def kpi_rows(batch):
    return {row["label"]: row for row in batch.diff if row["kind"] == "kpi"}


def test_changed_and_new_kpis_old_to_new_located_to_the_file_row(admin):
    load(xlsx(kpis(2)))

    batch = pipeline.preview(xlsx([*kpis(1, "0.5%"), *kpis(3)[1:]]), "again.xlsx", admin)

    rows = kpi_rows(batch)
    changed = rows["埼玉支部 令和5年度 指標1"]
    assert changed["status"] == "changed" and changed["place"] == "KPI!2"
    assert {"field": "実績", "old": "1%", "new": "0.5%"} in changed["cells"]
    new = rows["埼玉支部 令和5年度 指標3"]
    assert new["status"] == "new" and {"field": "目標", "old": "", "new": "3%以上"} in new["cells"]
    assert "埼玉支部 令和5年度 指標2" not in rows  # unchanged rows are not listed
    assert batch.diff_total == len(batch.diff) == 2


def test_monthly_cells_old_to_new_with_their_warnings(admin):
    load(xlsx([kpi_row()]))
    load(xlsx([monthly_row(months=["95%", "96%"])], MONTHLY_HEADER, title="月次"))

    content = xlsx([monthly_row(months=["95%", "97%", "150%"])], MONTHLY_HEADER, title="月次")
    batch = pipeline.preview(content, "monthly.xlsx", admin)

    (row,) = batch.diff
    assert row["label"] == "埼玉支部 令和5年度 現金給付等の申請に係る郵送化率（単月）"
    assert row["status"] == "changed" and row["place"] == "月次!2"
    assert row["cells"] == [
        {"field": "5月", "old": "96%", "new": "97%"},
        {"field": "6月", "old": "", "new": "150%"},
    ]
    assert row["warnings"] and "6月" in row["warnings"][0]


def test_filters_and_pages_are_links_served_by_the_server(client, admin, monkeypatch):
    monkeypatch.setattr(diff, "PAGE_SIZE", 2)
    load(xlsx(kpis(3)))
    batch = pipeline.preview(xlsx([*kpis(3, "0.{n}%"), *kpis(6)[3:]]), "again.xlsx", admin)
    client.force_login(admin)
    url = reverse("imports:preview", args=[batch.pk])

    page = client.get(url).content.decode()
    changed = client.get(url, {"show": "changed"}).content.decode()
    new_second = client.get(url, {"show": "new", "page": "2"}).content.decode()

    assert "変更（3）" in page and "新規（3）" in page and "警告あり（0）" in page
    assert "1 / 3 ページ" in page and "?show=all&amp;page=2" in page
    label = "埼玉支部 令和5年度 指標{}"
    assert label.format(1) in changed and label.format(4) not in changed
    assert label.format(6) in new_second and label.format(4) not in new_second
    assert "2 / 2 ページ" in new_second


def test_a_large_diff_is_stored_capped_and_says_how_many_more(client, admin, monkeypatch):
    monkeypatch.setattr(diff, "MAX_ROWS", 4)
    load(xlsx(kpis(2)))

    batch = pipeline.preview(xlsx(kpis(8, "0.{n}%")), "again.xlsx", admin)

    assert len(batch.diff) == 4 and batch.diff_total == 8
    client.force_login(admin)
    page = client.get(reverse("imports:preview", args=[batch.pk])).content.decode()
    assert f"ほかに {batch.diff_total - 4} 行の変更があり" in page


@pytest.mark.parametrize("rows", [3, 30])
def test_preview_page_queries_do_not_grow_with_the_diff(
    client, admin, django_assert_num_queries, rows
):
    load(xlsx(kpis(rows)))
    batch = pipeline.preview(xlsx(kpis(rows * 2, "0.{n}%")), "again.xlsx", admin)
    assert batch.diff_total == rows * 2
    client.force_login(admin)
    url = reverse("imports:preview", args=[batch.pk])

    with django_assert_num_queries(5):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(5):
        assert client.get(url, {"show": "new", "page": "2"}).status_code == 200


def test_breakdown_rows_old_to_new(admin):
    load(xlsx([kpi_row()]))
    header = ["支部コード", "年度", "KPI指標", "内訳", "系列", "4月", "5月", "年計", "年計の種類"]

    def breakdowns(*months, figure):
        row = ["11", "2023", "現金給付等の申請に係る郵送化率", "窓口件数", "単月"]
        sheet = [header, row + [*months, figure, "計"]]
        return xlsx([], MONTHLY_HEADER, title="月次", extra_sheets=[("月次内訳", sheet)])

    load(breakdowns("423", "393", figure="816"))

    batch = pipeline.preview(breakdowns("423", "400", figure="823"), "again.xlsx", admin)

    (row,) = batch.diff
    assert row["kind"] == "breakdown" and row["status"] == "changed"
    assert row["label"] == (
        "埼玉支部 令和5年度 現金給付等の申請に係る郵送化率（単月） 内訳「窓口件数」"
    )
    assert row["place"] == "月次内訳!2"
    assert row["cells"] == [
        {"field": "5月", "old": "393", "new": "400"},
        {"field": "年度計（記載値）", "old": "816", "new": "823"},
    ]
