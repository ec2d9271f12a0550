"""A staff member enters monthly values in a real browser with scripts off (the whole-grid
save; tests/e2e/test_entry_grid_browser.py saves cell by cell with the grid's script) and
finds them after a reload; a council member cannot open the entry page."""

import pytest

from kpis.models import MonthlyValue
from tests import factories_entry as fe

PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory

# Transactional, so that the live server's thread sees the rows the test writes.
pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_staff_enters_values_that_survive_a_reload_and_council_is_refused(
    live_server, browser, new_page, staff_11, council
):
    rate = fe.kpi(name="特定健診実施率", unit="%", aggregation="point")
    balance = fe.kpi(name="収支差の対前年度増減", unit="円", aggregation="sum")

    context = browser.new_context(locale="ja-JP", java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server, "staff11")
    page.click("text=月次入力")
    page.wait_for_url(f"{live_server.url}/entry/11/2023/")
    page.fill(f"#id_c{rate.pk}_4", "９６．５％")
    page.fill(f"#id_c{balance.pk}_4", "△2")
    # Tab moves to the next month of the same KPI.
    page.focus(f"#id_c{balance.pk}_4")
    page.keyboard.press("Tab")
    page.keyboard.type("1,200")
    page.click("text=まとめて保存")
    page.wait_for_selector("text=3件の値を保存しました。")

    page.reload()
    assert page.input_value(f"#id_c{rate.pk}_4") == "９６．５％"
    assert page.input_value(f"#id_c{balance.pk}_4") == "△2"
    assert page.input_value(f"#id_c{balance.pk}_5") == "1,200"
    totals = page.locator("td.ytd").all_inner_texts()
    assert any("96.5%" in text for text in totals)
    assert any("1,198円" in text for text in totals)
    assert MonthlyValue.objects.filter(kpi__branch__code="11").count() == 3
    context.close()

    council_page = new_page()
    log_in(council_page, live_server, council.username)
    assert council_page.locator("text=月次入力").count() == 0
    response = council_page.goto(f"{live_server.url}/entry/11/2023/")
    assert response.status == 403
    assert council_page.locator("text=この支部の月次入力ページは開けません。").count() == 1
    assert council_page.locator("input[type=text]").count() == 0
