"""Undo asks first: the page says what it will delete and restore, and only its POST
button undoes."""

import pytest
from django.urls import reverse

from imports.models import ImportBatch
from kpis.models import Kpi
from tests.factories_imports import activity_row, kpi_row, load, xlsx

pytestmark = pytest.mark.django_db


def test_get_shows_what_it_restores_and_changes_nothing(client, admin):
    load(xlsx([kpi_row(), activity_row()]))
    batch = load(xlsx([kpi_row(**{"実績": "97%"}), activity_row()]), "again.xlsx")
    client.force_login(admin)

    response = client.get(reverse("imports:undo", args=[batch.pk]))

    page = response.content.decode()
    assert f"取り込み #{batch.pk} を取り消しますか" in page
    assert '<th>KPI</th><td class="num">0</td><td class="num">1</td>' in page
    assert "埼玉支部 令和5年度 現金給付等の申請に係る郵送化率" in page
    assert '<td class="old">97%</td>' in page and '<td class="new">96.5%</td>' in page
    assert f'action="{reverse("imports:undo", args=[batch.pk])}"' in page
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED
    assert Kpi.objects.get().actual_text == "97%"


def test_post_undoes(client, admin):
    batch = load(xlsx([kpi_row()]))
    client.force_login(admin)

    response = client.post(reverse("imports:undo", args=[batch.pk]), follow=True)

    assert "取り消しました" in response.content.decode()
    assert not Kpi.objects.exists()


def test_result_page_links_to_the_confirmation(client, admin):
    batch = load(xlsx([kpi_row()]))
    client.force_login(admin)

    page = client.get(reverse("imports:result", args=[batch.pk])).content.decode()

    assert f'href="{reverse("imports:undo", args=[batch.pk])}"' in page


def test_an_undone_batch_goes_back_to_its_result(client, admin):
    batch = load(xlsx([kpi_row()]))
    client.force_login(admin)
    client.post(reverse("imports:undo", args=[batch.pk]))

    response = client.get(reverse("imports:undo", args=[batch.pk]))

    assert response["Location"] == reverse("imports:result", args=[batch.pk])


@pytest.mark.parametrize("rows", [3, 30])
def test_confirmation_page_queries_do_not_grow(client, admin, django_assert_num_queries, rows):
    content = xlsx([kpi_row(**{"KPI指標": f"指標{n}", "目標": f"{n}%以上"}) for n in range(rows)])
    batch = load(content)
    client.force_login(admin)

    with django_assert_num_queries(8):
        assert client.get(reverse("imports:undo", args=[batch.pk])).status_code == 200
