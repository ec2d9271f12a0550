"""The import journey of issue 15 in a real browser: a head-office admin uploads a changed
Saitama workbook with two headers the importer does not know, maps them, reads the row-level
diff under the red warning of a published plan, confirms, watches the progress bar while the
worker writes, lands on the result, undoes after confirming; the next upload with the same
headers needs no mapping.

Jobs go to the real database queue here (not the tests' immediate backend) and the import
worker runs in a thread of the test while the browser sits on the progress page. The server
is started on `shared_database` (tests/factories_jobs.py), as pytest-django's `live_server`
would share the test thread's in-memory SQLite connection, which a worker thread cannot use.
"""

import re
import threading

import openpyxl
import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.test.testcases import LiveServerThread
from playwright.sync_api import expect

from imports import diff
from imports.models import ImportBatch
from kpis import writes
from kpis.models import BranchPlan, Kpi
from tests import factories
from tests.factories_imports import DEMO_DIR, database_state, load, save
from tests.factories_jobs import (
    SHARED,
    in_thread,
    queue,  # noqa: F401 (fixture)
    run_worker,
    shared_database,  # noqa: F401 (fixture)
)

pytestmark = SHARED

PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory
DEMO = DEMO_DIR / "saitama_2023_kpi.xlsx"
AIM, MEMO = "ねらい", "担当者メモ"  # headers the importer does not know
AIM_TEXT = "加入者サービスの向上をねらう"
MEMO_TEXT = "窓口と郵送の案内を見直した"
# Two KPIs whose 実績 the branch corrected.
CHANGED_ACTUALS = {"サービススタンダード達成率": "99.2%", "現金給付等の申請に係る郵送化率": "97.1%"}
PROTECTED_PLAN = "埼玉支部 令和5年度（公表済）"
WAIT_MS = 15_000


@pytest.fixture
def server(shared_database):  # noqa: F811 (fixture)
    """A live server whose requests use the database the worker thread uses."""
    thread = LiveServerThread("localhost", StaticFilesHandler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://localhost:{thread.port}"
    thread.terminate()


def changed_workbook(path) -> None:
    """The demo workbook with two 実績 corrected and the two unknown columns added."""
    workbook = openpyxl.load_workbook(DEMO)
    sheet = workbook["KPI"]
    header = [cell.value for cell in sheet[1]]
    indicator = header.index("KPI指標") + 1
    actual = header.index("実績") + 1
    aim, memo = len(header) + 1, len(header) + 2
    sheet.cell(1, aim, AIM)
    sheet.cell(1, memo, MEMO)
    for row in range(2, sheet.max_row + 1):
        name = sheet.cell(row, indicator).value
        sheet.cell(row, aim, AIM_TEXT)
        if name in CHANGED_ACTUALS:
            sheet.cell(row, actual, CHANGED_ACTUALS[name])
            sheet.cell(row, memo, MEMO_TEXT)
    path.write_bytes(save(workbook))


def plan_rows() -> dict:
    """What a person sees of the plan: the fields the preview shows, per row."""
    return {
        model.__name__: sorted(map(repr, model.objects.values_list("pk", *fields)))
        for model, fields in diff.SHOWN.items()
    }


def kpi(name: str) -> Kpi:
    return Kpi.objects.get(branch__code="11", fiscal_year__start_year=2023, indicator__name=name)


def log_in(page, url, username):
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def upload(page, url, path):
    page.goto(f"{url}/imports/")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="内容を確認する").click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))


def confirm(page):
    """Tick the preview's confirmations (the protected plan, warnings if any) and confirm."""
    page.get_by_label("提出済み・公表済みの計画を変更することを確認した").check()
    warnings = page.get_by_label("警告を確認した")
    if warnings.count():
        warnings.check()
    page.get_by_role("button", name="この内容で取り込む").click()
    page.wait_for_url("**/progress/")


@pytest.mark.usefixtures("queue")
def test_admin_maps_previews_confirms_follows_the_job_and_undoes(
    server, new_page, settings, monkeypatch, tmp_path
):
    settings.IMPORT_JOB_HEARTBEAT_SECONDS = 0.1
    admin = factories.admin_user()
    load(DEMO.read_bytes(), DEMO.name)
    BranchPlan.objects.filter(branch__code="11", fiscal_year__start_year=2023).update(
        status=BranchPlan.Status.PUBLISHED
    )
    original = plan_rows()
    old_actuals = {name: kpi(name).actual_text for name in CHANGED_ACTUALS}
    path = tmp_path / "saitama_2023_kpi_修正.xlsx"
    changed_workbook(path)

    page = new_page()
    log_in(page, server, admin.username)
    upload(page, server, path)

    # The mapping step: two unknown columns, nothing confirmable before they are chosen.
    mapping = page.locator("section.mapping")
    expect(mapping.locator("h2")).to_have_text("見出しの対応を選んでください（2列）")
    expect(page.get_by_role("button", name="この内容で取り込む")).to_have_count(0)
    page.get_by_label(re.compile(f"「{AIM}」")).select_option(label="取り込まない")
    page.get_by_label(re.compile(f"「{MEMO}」")).select_option(label="結果の理由")
    page.get_by_role("button", name="この対応で確認し直す").click()
    expect(
        page.get_by_text("見出しの対応を保存し、ファイルをもう一度確認しました。")
    ).to_be_visible()
    expect(page.locator("section.mapping")).to_have_count(0)

    # The red warning of the published plan, and the row-level diff with its filters.
    warning = page.locator("#protected-plans")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("提出済み・公表済みの計画を変更します")
    expect(warning.locator("li")).to_have_text([PROTECTED_PLAN])
    filters = page.get_by_role("navigation", name="変更の絞り込み")
    expect(filters.get_by_role("link")).to_have_text(
        ["すべて（2）", "変更（2）", "新規（0）", "警告あり（0）"]
    )
    rows = page.locator("tbody.diff-row")
    expect(rows).to_have_count(len(CHANGED_ACTUALS))
    for name, value in CHANGED_ACTUALS.items():
        row = rows.filter(has_text=name)
        expect(row.locator(".diff-status")).to_have_text("変更")
        actual = row.locator("tr").filter(has=page.get_by_role("cell", name="実績", exact=True))
        expect(actual.locator("td.old")).to_have_text(old_actuals[name])
        expect(actual.locator("td.new")).to_have_text(value)
        reason = row.locator("tr").filter(has=page.get_by_role("cell", name="結果の理由"))
        expect(reason.locator("td.new")).to_have_text(MEMO_TEXT)
    expect(page.get_by_text(AIM_TEXT)).to_have_count(0)  # 取り込まない
    filters.get_by_role("link", name="新規（0）").click()
    expect(page.get_by_text("該当する行はありません。")).to_be_visible()
    filters.get_by_role("link", name="変更（2）").click()
    expect(page.locator("tbody.diff-row")).to_have_count(len(CHANGED_ACTUALS))

    # Without the published plan's checkbox the browser does not send the confirmation.
    assert page.locator("form.confirm-form").evaluate("form => form.checkValidity()") is False
    page.get_by_role("button", name="この内容で取り込む").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("の確認$"))
    batch = ImportBatch.objects.get(file_name=path.name)
    assert batch.status == ImportBatch.Status.PREVIEWED

    # Confirmed: the progress page, and nothing written until the worker runs.
    before = database_state()
    confirm(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"取り込み #{batch.pk} の処理中")
    expect(page.locator("progress")).to_be_visible()
    expect(page.locator('[data-progress="label"]')).to_have_text("処理待ち")
    assert database_state() == before
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.QUEUED

    # The worker writes the KPIs, then waits: the bar shows the rows written meanwhile.
    written, resume = threading.Event(), threading.Event()
    save_kpis = writes.save_kpis

    def save_kpis_then_wait(*args, **kwargs):
        result = save_kpis(*args, **kwargs)
        written.set()
        resume.wait(timeout=30)
        return result

    monkeypatch.setattr(writes, "save_kpis", save_kpis_then_wait)
    results = {}
    worker = in_thread(results, "worker", run_worker)
    try:
        assert written.wait(timeout=30)
        expect(page.locator('[data-progress="stage"]')).to_have_text("書き込んでいます")
        expect(page.locator('[data-progress="count"]')).to_have_text(re.compile(r"^\d+ / \d+ 行$"))
        page.wait_for_function("document.querySelector('progress').value > 0", timeout=WAIT_MS)
    finally:
        resume.set()
        worker.join(timeout=30)
    assert "worker" in results and results["worker"] is None, results

    # The page moves on to the result by itself.
    page.wait_for_url(f"**/imports/{batch.pk}/result/", timeout=WAIT_MS)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"取り込み #{batch.pk} の結果")
    expect(page.get_by_text(f"取り込み #{batch.pk} を取り込みました")).to_be_visible()
    for name, value in CHANGED_ACTUALS.items():
        assert (kpi(name).actual_text, kpi(name).mark_reason) == (value, MEMO_TEXT)
    assert AIM_TEXT not in repr(database_state())

    # Undo, after a page that says what it will restore.
    page.get_by_role("link", name="この取り込みを取り消す").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"取り込み #{batch.pk} を取り消しますか"
    )
    for name, value in CHANGED_ACTUALS.items():
        row = page.locator("tbody.undo-row").filter(has_text=name)
        actual = row.locator("tr").filter(has=page.get_by_role("cell", name="実績", exact=True))
        expect(actual.locator("td.old")).to_have_text(value)
        expect(actual.locator("td.new")).to_have_text(old_actuals[name])
    page.get_by_role("button", name="取り消す").click()
    page.wait_for_url(f"**/imports/{batch.pk}/result/")
    expect(page.get_by_text(f"取り込み #{batch.pk} を取り消しました")).to_be_visible()
    assert plan_rows() == original

    # The same headers again: the remembered choices apply, no mapping step.
    upload(page, server, path)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("の確認$"))
    expect(page.get_by_text("見出しの対応を選んでください")).to_have_count(0)
    expect(page.locator("#protected-plans")).to_be_visible()
    expect(page.locator("tbody.diff-row")).to_have_count(len(CHANGED_ACTUALS))
    again = ImportBatch.objects.latest("pk")
    confirm(page)
    run_worker()
    page.wait_for_url(f"**/imports/{again.pk}/result/", timeout=WAIT_MS)
    for name, value in CHANGED_ACTUALS.items():
        assert (kpi(name).actual_text, kpi(name).mark_reason) == (value, MEMO_TEXT)
