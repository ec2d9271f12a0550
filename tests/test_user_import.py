"""The users import (利用者の一括登録): upload → preview (per row new / changed / unchanged /
error, with its row number) → confirm, all rows or none; and the export, which imports back
without changing anything."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from branches import accounts
from branches.models import Membership
from branches.roles import ADMIN_GROUP
from tests import factories

pytestmark = pytest.mark.django_db

User = get_user_model()
HEADER = "姓,名,メールアドレス,支部,役割,有効"


def csv_file(*lines: str, name="users.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join((HEADER, *lines)) + "\n").encode("utf-8"))


def upload(client, file) -> str:
    response = client.post("/people/users/", {"file": file})
    assert response.status_code == 302, response.content.decode()
    return client.get("/people/users/preview/").content.decode()


def confirm(client):
    preview = client.get("/people/users/preview/")
    return client.post("/people/users/preview/", {"digest": preview.context["plan"].digest()})


def everyone() -> list[tuple]:
    return sorted(
        User.objects.values_list(
            "username", "last_name", "first_name", "email", "is_active", "membership__branch__code"
        )
    )


@pytest.fixture
def head_office(client, admin):
    client.force_login(admin)
    return client


GOOD = "熊本,一郎,ichiro@example.jp,熊本,担当者,有効"


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (
            "火星,太郎,taro@example.jp,火星,担当者,有効",
            "3行目「支部」「火星」という支部はありません",
        ),
        ("埼玉,花子,hanako@example,11,担当者,有効", "3行目「メールアドレス」「hanako@example」は"),
        (
            "埼玉,花子,hanako@example.jp,11,部長,有効",
            "3行目「役割」「部長」は役割として分かりません",
        ),
        (
            "熊本,二郎,ICHIRO@example.jp,43,管理者,有効",
            "3行目「メールアドレス」ICHIRO@example.jp は2行目と重複",
        ),
    ],
    ids=["unknown branch", "bad e-mail", "unknown role", "duplicate e-mail"],
)
def test_a_bad_row_writes_nothing_and_is_named(head_office, staff_11, bad_row, message):
    before = everyone()

    preview = upload(head_office, csv_file(GOOD, bad_row))
    assert message in preview
    assert "エラーがあるため取り込めません" in preview and "この内容で確定する" not in preview

    response = confirm(head_office)

    assert response.status_code == 200
    assert everyone() == before


def test_the_preview_says_what_each_row_does(head_office, staff_11, manager_11):
    staff_11.email, manager_11.email = "staff11@example.jp", "manager11@example.jp"
    staff_11.save()
    manager_11.save()
    file = csv_file(
        GOOD,  # new
        ",,staff11@example.jp,千葉支部,担当者,有効".replace(",,", "埼玉,花子,", 1),  # moves
        ",,manager11@example.jp,11,管理者,有効",  # as stored (no name either)
        ",,jiro@example.jp,43,担当者,有効",  # a new person needs a name
    )

    preview = upload(head_office, file)
    plan = head_office.get("/people/users/preview/").context["plan"]

    assert [(row.number, row.status) for row in plan.rows] == [
        (2, "new"),
        (3, "changed"),
        (4, "unchanged"),
        (5, "error"),
    ]
    assert ("支部", "埼玉支部", "千葉支部") in plan.rows[1].changes
    assert "5行目「姓」が空欄です" in preview


def test_confirm_writes_every_row_and_invites_the_new_people(
    head_office, staff_11, mailoutbox, django_capture_on_commit_callbacks
):
    staff_11.email = "staff11@example.jp"
    staff_11.save()
    upload(head_office, csv_file(GOOD, "埼玉,担当者,staff11@example.jp,千葉,管理者,有効"))

    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(head_office)

    assert response.status_code == 302
    ichiro = User.objects.get(email="ichiro@example.jp")
    assert ichiro.username == "ichiro@example.jp" and not ichiro.has_usable_password()
    assert (ichiro.membership.branch.code, ichiro.membership.role) == ("43", "staff")
    moved = Membership.objects.get(user=staff_11)
    assert (moved.branch.code, moved.role) == ("12", "manager")
    assert [mail.to for mail in mailoutbox] == [["ichiro@example.jp"]]
    assert "/accounts/reset/" in mailoutbox[0].body


def test_a_full_name_column_and_a_dated_transfer(head_office, staff_11):
    staff_11.last_name, staff_11.first_name, staff_11.email = "埼玉", "担当者", "staff11@example.jp"
    staff_11.save()
    file = SimpleUploadedFile(
        "users.csv",
        "氏名,メールアドレス,支部,役割,発令日\n"
        "埼玉　担当者,staff11@example.jp,千葉,担当者,2099/4/1\n".encode("cp932"),
    )

    upload(head_office, file)
    plan = head_office.get("/people/users/preview/").context["plan"]
    assert plan.rows[0].changes == [("支部", "埼玉支部", "千葉支部（2099-04-01から）")]
    confirm(head_office)

    assert Membership.objects.get(user=staff_11).branch.code == "11"  # not before its day
    waiting = head_office.get("/people/users/").content.decode()
    assert "発令日を待っている異動（1件）" in waiting and "2099-04-01" in waiting
    assert [p.branch.code for p in staff_11.postings.all()] == ["11", "12"]
    # Importing the same file again records the transfer once.
    upload(head_office, SimpleUploadedFile("users.csv", file.file.getvalue()))
    assert head_office.get("/people/users/preview/").context["plan"].rows[0].status == "unchanged"


def test_only_a_superuser_makes_someone_an_admin(head_office, staff_11):
    staff_11.email = "staff11@example.jp"
    staff_11.save()

    preview = upload(head_office, csv_file(f"埼玉,担当者,staff11@example.jp,,{ADMIN_GROUP},有効"))

    assert "2行目「役割」本部管理者の役割を付け外しできるのはスーパーユーザーだけです" in preview


@pytest.fixture
def people(staff_11, manager_11, council, admin):
    """Everyone the export writes: branch staff, a manager, a council member, an admin, a
    deactivated person, one with no role yet, and a name that looks like a formula. The
    council member also has a membership left over: written as 評議員."""
    staff_11.last_name, staff_11.first_name, staff_11.email = "埼玉", "担当者", "s11@example.jp"
    staff_11.save()
    factories.MembershipFactory(user=council, branch=factories.branch("12"))
    factories.MembershipFactory(
        user__username="gone", user__is_active=False, branch=factories.branch("43")
    )
    factories.UserFactory(username="newcomer", last_name="=cmd|' /C calc'!A0")
    factories.UserFactory(username="root", is_superuser=True, email="root@example.jp")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(head_office, people, fmt):
    before = everyone()

    response = head_office.get(f"/people/users/export.{fmt}")
    content = b"".join(response.streaming_content if response.streaming else [response.content])

    preview = upload(head_office, SimpleUploadedFile(f"users.{fmt}", content))
    plan = head_office.get("/people/users/preview/").context["plan"]
    assert {row.status for row in plan.rows} == {"unchanged"}, preview
    assert len(plan.rows) == 6  # the superuser is not exported
    confirm(head_office)
    assert everyone() == before


def test_the_export_writes_the_columns_people_read(head_office, people):
    content = head_office.get("/people/users/export.xlsx").content
    rows = list(load_workbook(io.BytesIO(content)).active.values)

    assert rows[0] == accounts.COLUMNS
    assert ("staff11", "埼玉", "担当者", "s11@example.jp", "埼玉支部", "担当者", "有効") in rows
    assert ("gone", None, None, None, "熊本支部", "担当者", "無効") in rows
    assert ("council", None, None, None, None, "評議員", "有効") in rows


def test_a_superuser_takes_the_admin_role_and_its_admin_site_away(client, admin):
    root = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    admin.email = "admin@example.jp"
    admin.save()
    client.force_login(root)

    upload(client, csv_file(",,admin@example.jp,,評議員,有効"))
    confirm(client)

    admin.refresh_from_db()
    assert [g.name for g in admin.groups.all()] == ["評議員"] and not admin.is_staff
