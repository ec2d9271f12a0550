"""The entry grid: branch staff see their KPIs × 12 months, type values in the documents'
notation and save the whole grid, all or nothing."""

from decimal import Decimal

import pytest

from kpis.models import MonthlyValue
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db


@pytest.fixture
def rate(db):
    return fe.kpi(name="特定健診実施率", unit="%", aggregation="point")


@pytest.fixture
def count(db):
    return fe.kpi(name="訪問件数", unit="件", aggregation="sum")


@pytest.fixture
def total(db):
    return fe.kpi(name="加入事業所数（累計）", unit="事業所", aggregation="cumulative")


def post(client, kpis, typed, reason=""):
    return client.post(fe.grid_url(), fe.grid_data(kpis, typed, reason))


def test_grid_shows_every_kpi_and_twelve_months_in_fiscal_order(client, staff_11, rate, count):
    client.force_login(staff_11)
    response = client.get(fe.grid_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "埼玉支部 令和5年度 (2023) 月次入力" in html
    assert "特定健診実施率" in html and "訪問件数" in html
    headers = [f'<th scope="col" class="num">{m}月</th>' for m in (4, 5, 12, 1, 3)]
    positions = [html.index(h) for h in headers]
    assert positions == sorted(positions)
    assert html.count('type="text" name="c') == 24


def test_typed_values_in_document_notation_are_saved_and_shown(client, staff_11, rate, count):
    client.force_login(staff_11)
    response = post(client, [rate, count], {(rate, 4): "９６．５％", (count, 4): "1,234件"})
    assert response.status_code == 302
    stored = MonthlyValue.objects.get(kpi=rate, month=4)
    assert (stored.text, stored.value, stored.unit) == ("９６．５％", Decimal("96.5"), "%")
    assert stored.updated_by == staff_11 and stored.version == 1
    page = client.get(fe.grid_url()).content.decode()
    assert 'value="９６．５％"' in page
    assert "2件の値を保存しました。" in page


def test_series_follow_the_indicator_and_year_to_date_is_computed(
    client, staff_11, rate, count, total
):
    for month, text in [(4, "10件"), (5, "20"), (6, "△2件")]:
        MonthlyValue.objects.create(kpi=count, month=month, series="single", text=text)
    fe.value(total, 4, "100事業所")
    fe.value(total, 5, "150事業所")
    fe.value(rate, 4, "50%")
    fe.value(rate, 6, "61.5%")
    client.force_login(staff_11)
    html = client.get(fe.grid_url()).content.decode()
    assert "単月（時点）" in html and "累計" in html
    assert "年度累計</span> 28件" in html
    assert "最新の累計</span> 150事業所" in html
    assert "最新値</span> 61.5%" in html
    assert MonthlyValue.objects.get(kpi=total, month=4).series == "cumulative"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("120%", "特定健診実施率 4月: 率が100%を超えています（「120%」）。"),
        ("よくわからない12", "特定健診実施率 4月: 「よくわからない12」を数値として読めません"),
        ("12件", "特定健診実施率 4月: 単位「件」がこの指標の単位「%」と合いません"),
    ],
)
def test_invalid_rate_is_refused_naming_the_cell(client, staff_11, rate, text, message):
    client.force_login(staff_11)
    response = post(client, [rate], {(rate, 4): text})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not MonthlyValue.objects.exists()


def test_negative_single_month_count_is_a_net_change_and_is_saved(client, staff_11, count):
    client.force_login(staff_11)
    response = post(client, [count], {(count, 5): "△3件"})
    assert response.status_code == 302
    assert MonthlyValue.objects.get().value == Decimal("-3")


def test_whole_grid_is_all_or_nothing_and_keeps_what_was_typed(client, staff_11, rate, count):
    client.force_login(staff_11)
    typed = {(rate, 4): "96.5%", (rate, 5): "101%", (count, 4): "12件", (count, 6): "abc1"}
    response = post(client, [rate, count], typed)
    html = response.content.decode()
    assert response.status_code == 200
    assert not MonthlyValue.objects.exists()
    assert "特定健診実施率 5月: 率が100%を超えています" in html
    assert "訪問件数 6月: 「abc1」を数値として読めません" in html
    for text in ("96.5%", "101%", "12件", "abc1"):
        assert f'value="{text}"' in html
    assert "保存していません。" in html


def test_clearing_a_cell_keeps_the_row_and_its_history(client, staff_11, rate):
    stored = fe.value(rate, 4, "90%")
    client.force_login(staff_11)
    post(client, [rate], {(rate, 4): ""})
    stored.refresh_from_db()
    assert (stored.text, stored.value, stored.version) == ("", None, 2)
    assert stored.history.count() == 2


def test_unchanged_grid_saves_nothing(client, staff_11, rate):
    fe.value(rate, 4, "90%")
    client.force_login(staff_11)
    response = post(client, [rate], {})
    assert response.status_code == 302
    assert MonthlyValue.objects.get(kpi=rate, month=4).version == 1


def test_broken_form_is_a_message_not_an_error(client, staff_11, rate):
    client.force_login(staff_11)
    data = fe.grid_data([rate], {(rate, 4): "1%"})
    data[f"v{rate.pk}"] = "x"
    response = client.post(fe.grid_url(), data)
    assert response.status_code == 200
    assert "フォームの内容が古いか壊れています" in response.content.decode()


def test_unknown_branch_or_year_is_not_found(client, staff_11, rate):
    client.force_login(staff_11)
    assert client.get("/entry/11/2031/").status_code == 404
    assert client.get("/entry/99/2023/").status_code == 404
