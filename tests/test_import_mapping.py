"""The mapping step: columns whose header the importer does not know wait for the admin's
choice (a field or 取り込まない), which is remembered for the header row and used for the
next file; the command takes the same as --map."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from imports import pipeline
from imports.models import HeaderMapping, ImportBatch
from kpis.models import Kpi
from tests.factories_imports import KPI_HEADER, kpi_row, xlsx

pytestmark = pytest.mark.django_db

# The template's 目標 written as a branch might, and a column of the branch's own notes.
TARGET_HEADER = "ねらい値"
NOTES_HEADER = "担当者メモ"


def unknown_headers_workbook(target="96.5%以上") -> bytes:
    header = [TARGET_HEADER if h == "目標" else h for h in KPI_HEADER] + [NOTES_HEADER]
    return xlsx([kpi_row(**{"目標": target}) + ["田中さん確認済み"]], header=header)


def upload(client, content, name="kpi.xlsx"):
    response = client.post(reverse("imports:upload"), {"file": SimpleUploadedFile(name, content)})
    return ImportBatch.objects.latest("pk"), response


def choose(client, batch, **answers):
    return client.post(reverse("imports:mapping", args=[batch.pk]), answers)


def test_preview_asks_what_each_unknown_column_is_and_cannot_be_confirmed(client, admin):
    client.force_login(admin)

    batch, response = upload(client, unknown_headers_workbook())

    page = client.get(response["Location"]).content.decode()
    assert "KPI L列「ねらい値」" in page and "KPI S列「担当者メモ」" in page
    assert "すべての列を選ぶまで、この取り込みは確定できません" in page
    assert '<option value="target">目標</option>' in page
    assert '<option value="-">取り込まない</option>' in page
    assert '<option value="note">' not in page  # the sheet has 備考 already
    assert "この内容で取り込む" not in page
    assert not batch.can_commit
    client.post(reverse("imports:confirm", args=[batch.pk]))
    assert not Kpi.objects.exists()


def test_choices_are_applied_remembered_and_used_for_the_next_file(client, admin):
    client.force_login(admin)
    batch, _ = upload(client, unknown_headers_workbook())

    response = choose(client, batch, column_0="target", column_1="-")

    assert response["Location"] == reverse("imports:preview", args=[batch.pk])
    batch.refresh_from_db()
    assert batch.unmapped == [] and batch.can_commit
    assert batch.mapping == {"ねらい値": "target", "担当者メモ": ""}
    kpi = next(row for row in batch.diff if row["kind"] == "kpi")
    assert {"field": "目標", "old": "", "new": "96.5%以上"} in kpi["cells"]
    remembered = HeaderMapping.objects.get()
    assert remembered.choices == {"ねらい値": "target", "担当者メモ": ""}
    assert remembered.updated_by == admin
    page = client.get(response["Location"]).content.decode()
    assert "この内容で取り込む" in page and "見出しの対応を選んでください" not in page

    again, response = upload(client, unknown_headers_workbook("97%以上"), "next.xlsx")

    assert again.unmapped == [] and again.can_commit
    assert "97%以上" in client.get(response["Location"]).content.decode()


def test_every_column_needs_a_choice_and_a_field_is_taken_once(client, admin):
    client.force_login(admin)
    batch, _ = upload(client, unknown_headers_workbook())

    missing = choose(client, batch, column_0="target").content.decode()
    twice = choose(client, batch, column_0="mark_reason", column_1="mark_reason").content.decode()

    assert "S列「担当者メモ」の項目を選んでください" in missing
    assert "L列と同じ項目です" in twice
    assert not HeaderMapping.objects.exists()
    batch.refresh_from_db()
    assert len(batch.unmapped) == 2


def test_confirm_path_refuses_a_file_with_an_unmapped_column():
    problems = pipeline.read_and_validate(unknown_headers_workbook(), "kpi.xlsx").problems

    assert [p.place for p in problems] == ["KPI!L1", "KPI!S1"]
    assert "見出し「ねらい値」が何の列か分かりません" in problems[0].message


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_workbook", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_names_the_unknown_column_and_writes_nothing(tmp_path):
    path = tmp_path / "kpi.xlsx"
    path.write_bytes(unknown_headers_workbook())
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_workbook", str(path), stderr=err, stdout=io.StringIO())

    assert "KPI!L1: 見出し「ねらい値」が何の列か分かりません" in err.getvalue()
    assert "--map 'ねらい値=項目'" in err.getvalue()
    assert not Kpi.objects.exists()


def test_command_takes_the_choices_as_map_and_remembers_them(tmp_path):
    path = tmp_path / "kpi.xlsx"
    path.write_bytes(unknown_headers_workbook())

    run(str(path), "--dry-run", "--map", "ねらい値=target", "--map", "担当者メモ=")
    assert not HeaderMapping.objects.exists()  # a dry run remembers nothing
    run(str(path), "--map", "ねらい値=target", "--map", "担当者メモ=-")

    assert Kpi.objects.get().target_text == "96.5%以上"
    assert HeaderMapping.objects.get().choices == {"ねらい値": "target", "担当者メモ": ""}
    run(str(path))  # the next run needs no --map


@pytest.mark.parametrize(
    "option, message",
    [
        ("ねらい値", "'ヘッダ=項目' の形"),
        ("ねらい値=goal", "項目「goal」はありません"),
        ("どこにもない=target", "「どこにもない」）はファイルの見出し行にありません"),
    ],
)
def test_command_refuses_a_map_it_cannot_use(tmp_path, option, message):
    path = tmp_path / "kpi.xlsx"
    path.write_bytes(unknown_headers_workbook())

    with pytest.raises(CommandError, match=message):
        run(str(path), "--map", option, "--map", "担当者メモ=-")

    assert not Kpi.objects.exists() and not HeaderMapping.objects.exists()


def test_remembered_choices_are_listed_and_editable_in_the_django_admin(client, admin):
    client.force_login(admin)
    batch, _ = upload(client, unknown_headers_workbook())
    choose(client, batch, column_0="target", column_1="-")
    mapping = HeaderMapping.objects.get()

    changelist = client.get(reverse("admin:imports_headermapping_changelist"))
    change = client.get(reverse("admin:imports_headermapping_change", args=[mapping.pk]))

    assert "ねらい値、担当者メモ" in changelist.content.decode()
    assert change.status_code == 200
