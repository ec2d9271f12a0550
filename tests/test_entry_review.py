"""Managers set the annual actual from the monthly series and set, override or return
marks; a stale page cannot overwrite a newer change."""

import pytest

from kpis.entry import services
from kpis.models import Kpi
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db


def kpi_page(client, kpi):
    return f"/entry/11/2023/kpi/{kpi.pk}/"


def post_actual(client, kpi):
    return client.post(kpi_page(client, kpi) + "actual/", {"stamp": services.history_stamp(kpi)})


@pytest.mark.parametrize(
    ("aggregation", "unit", "texts", "actual"),
    [
        ("sum", "件", {4: "10件", 5: "２０件", 6: "△2"}, "28件 (R5.6現在)"),
        ("cumulative", "事業所", {4: "100", 5: "1,150事業所"}, "1,150事業所 (R5.5現在)"),
        ("point", "%", {4: "50%", 3: "61.5%"}, "61.5%"),
        # The latest value as written: its decimals are the branch's, full width is not.
        ("point", "%", {4: "50%", 3: "９５．０％"}, "95.0%"),
        ("point", "%", {3: "1.00"}, "1.00%"),
    ],
)
def test_manager_sets_the_annual_actual_from_the_monthly_series(
    client, manager_11, aggregation, unit, texts, actual
):
    kpi = fe.kpi(name="指標", unit=unit, aggregation=aggregation, target_text="")
    for month, text in texts.items():
        fe.value(kpi, month, text)
    client.force_login(manager_11)
    assert post_actual(client, kpi).status_code == 302
    kpi.refresh_from_db()
    assert kpi.actual_text == actual
    assert kpi.history.latest().history_change_reason == "画面入力: 月次実績から年度実績を設定"
    assert kpi.history.latest().history_user == manager_11


def test_actual_is_evaluated_against_the_target(client, manager_11):
    kpi = fe.kpi(target_text="60%以上")
    fe.value(kpi, 3, "61.5%")
    client.force_login(manager_11)
    post_actual(client, kpi)
    kpi.refresh_from_db()
    assert (kpi.actual_value, kpi.achieved, kpi.mark) == (61.5, True, "○")


def test_without_monthly_numbers_there_is_nothing_to_set(client, manager_11):
    kpi = fe.kpi(actual_text="55%")
    client.force_login(manager_11)
    response = post_actual(client, kpi)
    assert (
        "月次実績に数値がないため設定できません"
        in client.get(response["Location"]).content.decode()
    )
    kpi.refresh_from_db()
    assert kpi.actual_text == "55%"


def test_manager_overrides_the_mark_with_a_reason_and_returns_it(client, manager_11):
    kpi = fe.kpi(target_text="60%以上", actual_text="61%")
    assert kpi.mark == "○"
    client.force_login(manager_11)
    url = kpi_page(client, kpi) + "mark/"
    reason = "目標を大きく上回る事業所数の増加があったため"
    client.post(url, {"stamp": services.history_stamp(kpi), "mark": "◎", "reason": reason})
    kpi.refresh_from_db()
    assert (kpi.mark, kpi.mark_source, kpi.mark_reason) == ("◎", "manual", reason)
    assert kpi.history.latest().history_change_reason == f"画面入力: {reason}"

    client.post(url, {"stamp": services.history_stamp(kpi), "computed": "1"})
    kpi.refresh_from_db()
    assert (kpi.mark, kpi.mark_source, kpi.mark_reason) == ("○", "computed", "")


def test_mark_override_without_reason_is_refused_naming_the_kpi(client, manager_11):
    kpi = fe.kpi(name="特定健診実施率", target_text="60%以上", actual_text="61%")
    client.force_login(manager_11)
    response = client.post(
        kpi_page(client, kpi) + "mark/",
        {"stamp": services.history_stamp(kpi), "mark": "×", "reason": " "},
    )
    assert response.status_code == 200
    assert "特定健診実施率 理由（必須）: 結果を手動で設定する理由を入力してください。" in (
        response.content.decode()
    )
    assert Kpi.objects.get(pk=kpi.pk).mark == "○"


def test_stale_page_cannot_overwrite_a_newer_change(client, manager_11, admin):
    kpi = fe.kpi(target_text="60%以上", actual_text="61%")
    stale = services.history_stamp(kpi)
    kpi.actual_text = "59%"
    kpi._history_user = admin
    kpi.save()
    client.force_login(manager_11)
    response = client.post(
        kpi_page(client, kpi) + "mark/", {"stamp": stale, "mark": "◎", "reason": "理由"}
    )
    assert (
        "ほかの人が先に変更しました（head-office、"
        in client.get(response["Location"]).content.decode()
    )
    assert Kpi.objects.get(pk=kpi.pk).mark_source == "computed"


def test_staff_sees_no_review_forms(client, staff_11, manager_11):
    kpi = fe.kpi()
    client.force_login(staff_11)
    assert "結果を手動で設定" not in client.get(kpi_page(client, kpi)).content.decode()
    client.force_login(manager_11)
    assert "結果を手動で設定" in client.get(kpi_page(client, kpi)).content.decode()
