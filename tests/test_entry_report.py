"""The branch writes its own report in the app: each activity's mark, each measure's 実施状況
and 課題 on the measure page, a KPI's 備考 on the KPI page — staff and managers of that
branch and head office, through the write path, with history, shown on the branch page."""

import pytest

from kpis import writes
from kpis.entry import services
from kpis.models import Activity, BranchPlan, Kpi, Measure
from tests import factories
from tests import factories_entry as fe

pytestmark = pytest.mark.django_db

BRANCH_PAGE = "/branches/11/2023/"
HISTORY_PAGE = "/entry/11/2023/history/"


@pytest.fixture
def kpi():
    return fe.kpi(name="特定健診実施率")


@pytest.fixture
def measure(kpi):
    measure = kpi.measure
    for number in (1, 2):
        factories.ActivityFactory(measure=measure, number=number, text=f"事業内容{number}")
    return measure


def page_url(measure) -> str:
    return f"/entry/11/2023/measure/{measure.pk}/"


def note_url(kpi) -> str:
    return f"/entry/11/2023/kpi/{kpi.pk}/note/"


def shown(measure) -> dict:
    """The measure page's form as a browser sends it untouched: the values, the values as
    shown (show_hidden_initial) and each row's stamp."""
    data = {"stamp": writes.report_stamps(Measure, [measure.pk])[measure.pk]}
    for name in ("narrative", "challenges"):
        data[name] = data[f"initial-{name}"] = getattr(measure, name)
    activities = list(measure.activities.all())
    stamps = writes.report_stamps(Activity, [a.pk for a in activities])
    for activity in activities:
        data[f"stamp_{activity.pk}"] = stamps[activity.pk]
        data[f"mark_{activity.pk}"] = data[f"initial-mark_{activity.pk}"] = activity.mark
    return data


def typed(data: dict, measure, marks=None, **texts) -> dict:
    """`data` with what the person typed over it: marks by activity number, texts by name."""
    data = {**data, **texts}
    for number, mark in (marks or {}).items():
        data[f"mark_{measure.activities.get(number=number).pk}"] = mark
    return data


def report_of(measure) -> tuple:
    """What the branch's report holds now, and how many history rows it has."""
    measure.refresh_from_db()
    activities = measure.activities.order_by("number")
    rows = measure.history.count() + sum(a.history.count() for a in activities)
    return (measure.narrative, measure.challenges, [a.mark for a in activities], rows)


def submit(manager, branch, fiscal_year):
    services.transition(services.entry_scope(manager, branch, fiscal_year, None), "submit")
    return BranchPlan.objects.get(branch=branch, fiscal_year=fiscal_year)


@pytest.mark.parametrize("user", ["manager_11", "staff_11", "admin"])
def test_the_report_is_saved_with_history_and_shown_on_the_branch_page(
    request, client, measure, user
):
    person = request.getfixturevalue(user)
    client.force_login(person)
    data = typed(
        shown(measure),
        measure,
        marks={1: "◎", 2: "△"},
        narrative="　受診勧奨を3回実施した。\r\n対象者の6割に届いた。",
        challenges="未受診者への再勧奨",
    )

    response = client.post(page_url(measure), data)

    assert response.status_code == 302
    narrative, challenges, marks, _ = report_of(measure)
    # Line breaks as stored everywhere; the paragraph's full-width indent kept.
    assert narrative == "　受診勧奨を3回実施した。\n対象者の6割に届いた。"
    assert (challenges, marks) == ("未受診者への再勧奨", ["◎", "△"])
    for row in (measure, *measure.activities.all()):
        latest = row.history.latest()
        assert (latest.history_user, latest.history_change_reason) == (person, "画面入力")
    page = client.get(BRANCH_PAGE).content.decode()
    assert "受診勧奨を3回実施した。" in page and "未受診者への再勧奨" in page
    assert 'class="mark mark-excellent"' in page and 'class="mark mark-below"' in page


def test_what_staff_enter_the_manager_sees_as_theirs(client, measure, staff_11, manager_11):
    client.force_login(staff_11)
    client.post(page_url(measure), typed(shown(measure), measure, {1: "○"}, narrative="実施した"))

    client.force_login(manager_11)
    measure_page = client.get(page_url(measure)).content.decode()
    history = client.get(HISTORY_PAGE).content.decode()

    for html in (measure_page, history):
        assert "staff11" in html
        assert "実施状況" in html and "実施した" in html
        assert "事業内容の結果" in html and "○" in html


def test_a_kpi_note_is_saved_through_the_write_path(client, kpi, staff_11):
    client.force_login(staff_11)
    version = kpi.version

    response = client.post(
        note_url(kpi), {"note": "9月から集計方法を変更", "stamp": services.history_stamp(kpi)}
    )

    assert response.status_code == 302
    kpi.refresh_from_db()
    assert (kpi.note, kpi.version) == ("9月から集計方法を変更", version + 1)
    latest = kpi.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (staff_11, "画面入力")
    assert "9月から集計方法を変更" in client.get(BRANCH_PAGE).content.decode()
    kpi_page = client.get(f"/entry/11/2023/kpi/{kpi.pk}/").content.decode()
    assert "9月から集計方法を変更" in kpi_page and "備考" in kpi_page


def test_the_kpi_page_links_its_measure_page(client, kpi, staff_11):
    client.force_login(staff_11)

    html = client.get(f"/entry/11/2023/kpi/{kpi.pk}/").content.decode()

    assert f'href="{page_url(kpi.measure)}"' in html


def test_the_branch_page_links_the_measure_page_for_the_branch_and_head_office_only(
    client, measure, manager_11, staff_11, admin, council
):
    link = f'href="{page_url(measure)}"'
    for user in (manager_11, staff_11, admin):
        client.force_login(user)
        assert link in client.get(BRANCH_PAGE).content.decode(), user
    plan = submit(manager_11, measure.branch, measure.fiscal_year)
    scope = services.entry_scope(admin, measure.branch, measure.fiscal_year, plan)
    services.transition(scope, "publish")

    client.force_login(council)
    page = client.get(BRANCH_PAGE)

    assert page.status_code == 200 and measure.title in page.content.decode()
    assert "入力する" not in page.content.decode()


@pytest.mark.parametrize("user", ["staff_12", "council"])
def test_others_are_refused_and_nothing_changes(request, client, measure, kpi, user):
    client.force_login(request.getfixturevalue(user))
    before = report_of(measure)
    note = {"note": "他支部の備考", "stamp": services.history_stamp(kpi)}

    assert client.get(page_url(measure)).status_code == 403
    assert (
        client.post(page_url(measure), typed(shown(measure), measure, {1: "×"})).status_code == 403
    )
    assert client.post(note_url(kpi), note).status_code == 403

    assert report_of(measure) == before
    kpi.refresh_from_db()
    assert kpi.note == ""


def test_another_branchs_measure_is_not_found_through_this_branch(client, staff_11):
    other = factories.MeasureFactory(branch=factories.branch("12"), fiscal_year=fe.fiscal_year())
    client.force_login(staff_11)

    assert client.get(page_url(other)).status_code == 404


def test_a_submitted_plan_refuses_plainly_and_writes_nothing(
    client, measure, kpi, staff_11, manager_11
):
    submit(manager_11, measure.branch, measure.fiscal_year)
    before = report_of(measure)
    client.force_login(staff_11)

    page = client.get(page_url(measure)).content.decode()
    response = client.post(page_url(measure), typed(shown(measure), measure, {1: "○"}))
    note = client.post(note_url(kpi), {"note": "備考", "stamp": services.history_stamp(kpi)})

    assert "提出済みのため変更できません" in page and "<select" not in page
    for refused in (response, note):
        html = refused.content.decode()
        assert refused.status_code == 403
        assert "提出済みのため変更できません" in html
        assert "次の点を直して" not in html
    assert report_of(measure) == before
    kpi.refresh_from_db()
    assert kpi.note == ""


def test_a_mark_that_is_not_one_is_refused_naming_the_activity(client, measure, staff_11):
    client.force_login(staff_11)
    before = report_of(measure)

    response = client.post(
        page_url(measure), typed(shown(measure), measure, {2: "A"}, narrative="実施した")
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "1-(" in html and "② 結果: 「A」は事業内容の結果に使えません" in html
    assert report_of(measure) == before


def test_a_text_too_long_is_refused_naming_the_field(client, measure, staff_11):
    client.force_login(staff_11)
    before = report_of(measure)

    response = client.post(
        page_url(measure), typed(shown(measure), measure, challenges="課" * 4001)
    )

    html = response.content.decode()
    assert f"{measure.number_label} 課題: 4000文字以内で入力してください" in html
    assert report_of(measure) == before


def test_a_row_changed_since_the_page_was_shown_is_a_conflict(
    client, measure, staff_11, manager_11
):
    stale = shown(measure)
    client.force_login(manager_11)
    client.post(page_url(measure), typed(shown(measure), measure, narrative="管理者の文章"))

    client.force_login(staff_11)
    response = client.post(page_url(measure), typed(stale, measure, narrative="担当者の文章"))

    html = response.content.decode()
    assert response.status_code == 409
    assert "実施状況: ほかの人が先に変更しました（manager11、" in html
    assert "担当者の文章" in html  # what was typed stays in the form
    assert report_of(measure)[0] == "管理者の文章"

    # The page now carries the current stamp: saving again replaces the text deliberately.
    again = client.post(page_url(measure), typed(shown(measure), measure, narrative="担当者の文章"))
    assert again.status_code == 302
    assert report_of(measure)[0] == "担当者の文章"


def test_a_field_left_as_shown_keeps_the_newer_value(client, measure, staff_11, manager_11):
    stale = shown(measure)
    client.force_login(manager_11)
    client.post(page_url(measure), typed(shown(measure), measure, {1: "◎"}, challenges="課題A"))

    client.force_login(staff_11)
    response = client.post(page_url(measure), typed(stale, measure, {2: "○"}))

    assert response.status_code == 302
    _, challenges, marks, _ = report_of(measure)
    assert (challenges, marks) == ("課題A", ["◎", "○"])


def test_a_kpi_note_changed_since_the_page_was_shown_is_a_conflict(
    client, kpi, staff_11, manager_11
):
    stamp = services.history_stamp(kpi)
    client.force_login(manager_11)
    client.post(note_url(kpi), {"note": "管理者の備考", "stamp": stamp})

    client.force_login(staff_11)
    response = client.post(note_url(kpi), {"note": "担当者の備考", "stamp": stamp})

    html = response.content.decode()
    assert response.status_code == 409
    assert "特定健診実施率 備考: ほかの人が先に変更しました（manager11、" in html
    assert "担当者の備考" in html
    assert Kpi.objects.get(pk=kpi.pk).note == "管理者の備考"


@pytest.mark.parametrize("activities", [1, 6])
def test_the_measure_page_asks_a_fixed_number_of_queries(
    client, django_assert_num_queries, kpi, manager_11, activities
):
    measure = kpi.measure
    for number in range(1, activities + 1):
        factories.ActivityFactory(measure=measure, number=number)
        factories.KpiFactory(measure=measure)
    client.force_login(manager_11)
    for mark in ("○", "△"):  # history rows to list
        client.post(
            page_url(measure),
            typed(
                shown(measure),
                measure,
                dict.fromkeys(range(1, activities + 1), mark),
                narrative=mark,
            ),
        )

    with django_assert_num_queries(13):
        assert client.get(page_url(measure)).status_code == 200
