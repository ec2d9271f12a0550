"""The admin's import pages: upload → preview → confirm → result → undo, who may use them,
the blank templates, and a constant number of queries per page."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from imports import pipeline
from imports.models import ImportBatch
from kpis.models import Kpi
from tests.factories_imports import (
    KPI_HEADER,
    activity_row,
    database_state,
    kpi_row,
    load,
    xlsx,
)

pytestmark = pytest.mark.django_db


def upload(client, content, name="kpi.xlsx"):
    return client.post(reverse("imports:upload"), {"file": SimpleUploadedFile(name, content)})


def many_rows(count):
    return [
        kpi_row(**{"KPI指標": f"指標{n}", "目標": f"{n}%以上", "実績": f"{n}%"})
        for n in range(1, count + 1)
    ]


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(reverse("imports:upload"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["staff_11", "manager_11", "council"])
def test_only_admins_may_import(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("imports:upload")).status_code == 403
    response = upload(client, xlsx([kpi_row()]))
    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


def test_navigation_links_to_the_upload_page_for_admins(client, admin):
    client.force_login(admin)
    response = client.get(reverse("kpis:home"))
    assert reverse("imports:upload") in response.content.decode()


def test_upload_preview_confirm_result(client, admin):
    client.force_login(admin)

    response = upload(client, xlsx([kpi_row(), activity_row()]))

    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("imports:preview", args=[batch.pk])
    assert not Kpi.objects.exists()  # nothing written before confirming
    page = client.get(response["Location"]).content.decode()
    assert "作成する" in page and "この内容で取り込む" in page
    assert "現金給付等の申請に係る郵送化率" in page  # listed as a new indicator

    response = client.post(reverse("imports:confirm", args=[batch.pk]))

    assert response["Location"] == reverse("imports:result", args=[batch.pk])
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED
    assert batch.created_by == admin
    kpi = Kpi.objects.get()
    assert kpi.history.first().history_change_reason == f"取り込み #{batch.pk}"
    assert kpi.history.first().history_user == admin
    page = client.get(response["Location"]).content.decode()
    assert "取り込みました" in page and "この取り込みを取り消す" in page


def test_preview_lists_every_error_and_offers_no_confirm(client, admin):
    client.force_login(admin)
    content = xlsx([kpi_row(**{"目標": "96.5%以上以上"}), kpi_row(**{"支部コード": "99"})])

    response = upload(client, content)
    page = client.get(response["Location"]).content.decode()

    assert "KPI!L2" in page and "目標「96.5%以上以上」を読めません" in page
    assert "KPI!A3" in page and "支部「99」が見つかりません" in page
    assert "この内容で取り込む" not in page
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.REJECTED
    response = client.post(reverse("imports:confirm", args=[batch.pk]))
    assert response.status_code == 302
    assert not Kpi.objects.exists()


@pytest.mark.parametrize(
    "content",
    [b"", b"%PDF-1.4", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, b"PK\x03\x04junk"],
    ids=["empty", "pdf", "password", "broken zip"],
)
def test_no_file_gives_a_server_error(client, admin, content):
    client.force_login(admin)
    response = upload(client, content, "odd.xlsx")
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert client.get(response["Location"]).status_code == 200


def test_upload_above_the_size_limit_is_refused_on_the_form(client, admin, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    client.force_login(admin)
    response = upload(client, xlsx([kpi_row()]))
    assert response.status_code == 200
    assert "ファイルが大きすぎます" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_confirm_validates_the_file_again(client, admin):
    """Between preview and confirm the KPI of a monthly row disappeared: nothing written."""
    client.force_login(admin)
    load(xlsx([kpi_row()]))
    header = ["支部コード", "年度", "KPI指標", "系列", "4月"]
    monthly = xlsx([["11", "2023", "現金給付等の申請に係る郵送化率", "単月", "95%"]], header)
    upload(client, monthly, "月次.xlsx")
    batch = ImportBatch.objects.latest("pk")
    assert batch.can_commit
    Kpi.objects.all().delete()
    before = database_state()

    response = client.post(reverse("imports:confirm", args=[batch.pk]))

    assert response["Location"] == reverse("imports:preview", args=[batch.pk])
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.REJECTED
    assert "登録されていません" in batch.errors[0]["message"]
    assert database_state() == before


def test_confirming_twice_writes_once(client, admin):
    client.force_login(admin)
    upload(client, xlsx([kpi_row()]))
    batch = ImportBatch.objects.get()
    client.post(reverse("imports:confirm", args=[batch.pk]))
    history = Kpi.history.count()

    response = client.post(reverse("imports:confirm", args=[batch.pk]))

    assert response.status_code == 302
    assert Kpi.history.count() == history


def test_undo_from_the_result_page(client, admin):
    client.force_login(admin)
    batch = load(xlsx([kpi_row()]), user=admin)

    response = client.post(reverse("imports:undo", args=[batch.pk]), follow=True)

    assert "取り消しました" in response.content.decode()
    assert not Kpi.objects.exists()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.UNDONE


@pytest.mark.parametrize("kind", ["kpi", "monthly"])
def test_blank_templates_download_and_import_as_empty(client, admin, kind):
    client.force_login(admin)

    response = client.get(reverse("imports:template", args=[kind]))

    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    assert "説明" in workbook.sheetnames
    analysis = pipeline.analyse(content, f"{kind}.xlsx")
    assert analysis.problems == []
    assert analysis.kind == kind
    assert not analysis.plan.has_changes


def test_unknown_template_is_404(client, admin):
    client.force_login(admin)
    assert client.get(reverse("imports:template", args=["other"])).status_code == 404


def test_original_file_can_be_downloaded(client, admin):
    client.force_login(admin)
    content = xlsx([kpi_row()])
    upload(client, content, "埼玉 2023.xlsx")
    batch = ImportBatch.objects.get()

    response = client.get(reverse("imports:original", args=[batch.pk]))

    assert b"".join(response.streaming_content) == content
    assert "attachment" in response["Content-Disposition"]


def test_django_admin_lists_batches_and_add_goes_to_upload(client, admin):
    client.force_login(admin)
    load(xlsx([kpi_row()]))

    index = client.get(reverse("admin:index")).content.decode()
    changelist = client.get(reverse("admin:imports_importbatch_changelist"))
    add = client.get(reverse("admin:imports_importbatch_add"))

    assert reverse("admin:imports_importbatch_changelist") in index
    assert changelist.status_code == 200
    assert reverse("imports:upload") in changelist.content.decode()
    assert add["Location"] == reverse("imports:upload")


@pytest.mark.parametrize("rows", [3, 30])
def test_query_counts_of_the_pages_do_not_grow_with_the_file(
    client, admin, django_assert_num_queries, rows
):
    client.force_login(admin)
    batch = load(xlsx(many_rows(rows)))
    for _ in range(3):
        load(xlsx([kpi_row(**{"実績": f"9{_}%"})], header=KPI_HEADER), f"{_}.xlsx")
    # After the commits of its branch and year: a preview they superseded would expire.
    previewed = pipeline.preview(xlsx(many_rows(rows)), "again.xlsx", admin)

    with django_assert_num_queries(6):  # one of them looks for previews to expire
        assert client.get(reverse("imports:upload")).status_code == 200
    with django_assert_num_queries(5):
        assert client.get(reverse("imports:preview", args=[previewed.pk])).status_code == 200
    with django_assert_num_queries(5):
        assert client.get(reverse("imports:result", args=[batch.pk])).status_code == 200
