"""The audit trail: every change to monthly values, annual actuals, targets and marks —
who, when, old → new, via the entry pages or an import batch — on the KPI page and the
branch's history page, and still there after later changes."""

import pytest
from simple_history.utils import bulk_update_with_history

from kpis.entry import services
from kpis.models import Kpi, MonthlyValue
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db


@pytest.fixture
def rate(db):
    return fe.kpi(name="特定健診実施率", unit="%", target_text="60%以上")


def rows(html: str) -> list[str]:
    """The history table's rows as text, newest first."""
    body = html.split('<table class="changes">')[1].split("</table>")[0]
    return [
        " ".join(cell.split("</td>")[0].strip() for cell in row.split("<td")[1:])
        for row in body.split("<tr>")[2:]
    ]


def test_monthly_changes_keep_every_value_with_who_and_why(client, rate, staff_11, manager_11):
    client.force_login(staff_11)
    client.post(fe.grid_url(), fe.grid_data([rate], {(rate, 4): "90%"}))
    client.force_login(manager_11)
    client.post(fe.grid_url(), fe.grid_data([rate], {(rate, 4): "91.5%"}))
    client.post(f"/entry/11/2023/kpi/{rate.pk}/4/", {"text": "92%", "version": 2, "reason": ""})

    history = rows(client.get("/entry/11/2023/history/").content.decode())
    history = [row for row in history if "月次実績" in row]
    assert len(history) == 3
    assert "manager11" in history[0] and "91.5%" in history[0] and "92%" in history[0]
    assert "manager11" in history[1] and "90%" in history[1] and "91.5%" in history[1]
    assert "staff11" in history[2] and "（空欄）" in history[2] and "画面入力" in history[2]
    assert "特定健診実施率 4月（単月）" in history[2]


def test_import_batches_show_as_the_route_of_a_change(client, rate, staff_11):
    value = fe.value(rate, 5, "80%")
    value.text = "81%"
    value.read_text()
    value.version += 1
    value._change_reason = "取り込み #7"
    bulk_update_with_history(
        [value], MonthlyValue, ["text", "value", "version"], default_change_reason="取り込み #7"
    )
    rate.target_text = "62%以上"
    bulk_update_with_history([rate], Kpi, ["target_text"], default_change_reason="取り込み #7")
    client.force_login(staff_11)
    history = rows(client.get("/entry/11/2023/history/").content.decode())
    assert any("80%" in row and "81%" in row and "取り込み #7" in row for row in history)
    assert any("目標" in row and "60%以上" in row and "62%以上" in row for row in history)


def test_annual_actual_mark_and_plan_changes_are_in_the_trail(client, rate, manager_11, admin):
    fe.value(rate, 4, "61%")
    client.force_login(manager_11)
    page = f"/entry/11/2023/kpi/{rate.pk}/"
    client.post(page + "actual/", {"stamp": services.history_stamp(rate)})
    client.post(
        page + "mark/",
        {"stamp": services.history_stamp(rate), "mark": "◎", "reason": "大幅に改善"},
    )
    client.post("/entry/11/2023/workflow/submit/")

    kpi_history = rows(client.get(page).content.decode())
    assert any("年度実績" in r and "61% (R5.4現在)" in r for r in kpi_history)
    assert any("結果" in r and "○" in r and "◎" in r and "大幅に改善" in r for r in kpi_history)
    assert any("結果の根拠" in r and "自動判定" in r and "手動" in r for r in kpi_history)

    branch_history = rows(client.get("/entry/11/2023/history/").content.decode())
    assert any("支部事業計画" in r and "提出済" in r for r in branch_history)
    assert any("年度実績" in r for r in branch_history)


def test_kpi_page_lists_its_monthly_changes(client, rate, staff_11):
    client.force_login(staff_11)
    client.post(fe.grid_url(), fe.grid_data([rate], {(rate, 6): "70%"}))
    history = rows(client.get(f"/entry/11/2023/kpi/{rate.pk}/").content.decode())
    assert any("6月" in r and "70%" in r and "staff11" in r for r in history)


def test_other_branches_changes_are_not_listed(client, rate, staff_11):
    other = fe.kpi(code="12", name="特定健診実施率")
    fe.value(other, 4, "77%")
    client.force_login(staff_11)
    assert "77%" not in client.get("/entry/11/2023/history/").content.decode()


def test_history_is_paged(client, rate, staff_11, monkeypatch):
    monkeypatch.setattr("kpis.entry.views.HISTORY_PAGE_SIZE", 2)
    for month in (4, 5, 6, 7):
        fe.value(rate, month, "50%")
    client.force_login(staff_11)
    html = client.get("/entry/11/2023/history/", {"page": 2}).content.decode()
    assert "2 / 3" in html  # four monthly values and the target the KPI was created with
