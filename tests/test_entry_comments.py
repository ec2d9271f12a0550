"""Comments on a month's value (e.g. why the figure dropped), shown to reviewers on the grid
and on the KPI page."""

import pytest

from kpis.models import Comment
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db


@pytest.fixture
def rate(db):
    return fe.kpi(name="特定健診実施率", unit="%")


def comment(client, kpi, month, body):
    return client.post(f"/entry/11/2023/kpi/{kpi.pk}/{month}/comment/", {"body": body})


def test_staff_comment_is_shown_to_the_manager_on_grid_and_kpi_page(
    client, rate, staff_11, manager_11
):
    client.force_login(staff_11)
    comment(client, rate, 5, "健診機関の休業で受診者が減少")
    client.force_login(manager_11)
    grid = client.get(fe.grid_url()).content.decode()
    assert "健診機関の休業で受診者が減少" in grid
    assert "特定健診実施率 5月" in grid and "※1" in grid
    kpi_page = client.get(f"/entry/11/2023/kpi/{rate.pk}/").content.decode()
    assert "健診機関の休業で受診者が減少" in kpi_page
    stored = Comment.objects.get()
    assert (stored.author, stored.month) == (staff_11, 5)


def test_empty_comment_is_refused_naming_the_cell(client, rate, staff_11):
    client.force_login(staff_11)
    response = comment(client, rate, 4, "")
    assert response.status_code == 200
    assert "特定健診実施率 4月: コメントを入力してください。" in response.content.decode()
    assert not Comment.objects.exists()


def test_too_long_comment_is_refused_and_kept_in_the_form(client, rate, staff_11):
    client.force_login(staff_11)
    response = comment(client, rate, 4, "長" * 1001)
    assert "特定健診実施率 4月:" in response.content.decode()
    assert "長" * 1001 in response.content.decode()
    assert not Comment.objects.exists()


def test_comments_are_allowed_on_a_submitted_year(client, rate, staff_11, manager_11):
    client.force_login(manager_11)
    client.post("/entry/11/2023/workflow/submit/")
    client.force_login(staff_11)
    assert comment(client, rate, 4, "確認済み").status_code == 302
    assert Comment.objects.count() == 1


def test_month_outside_1_to_12_is_not_found(client, rate, staff_11):
    client.force_login(staff_11)
    assert client.get(f"/entry/11/2023/kpi/{rate.pk}/13/").status_code == 404
