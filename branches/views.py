"""Head office's pages about people (本部管理者): the users import (upload → preview →
confirm), the users export and the login report. The work is in branches.accounts."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header

from branches import accounts, transfers
from branches.roles import is_admin
from imports.forms import UploadForm

SESSION_KEY = "users_import"
EXPORTS = {
    "csv": (accounts.export_csv, "text/csv; charset=utf-8"),
    "xlsx": (
        accounts.export_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not is_admin(request.user):
            raise PermissionDenied("利用者の管理は本部管理者だけが行えます。")
        return view(request, *args, **kwargs)

    return wrapper


@admin_required
def users(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = accounts.read(upload.read(), upload.name)
        except accounts.UsersFileError as error:
            form.add_error("file", str(error))
        else:
            # The rows wait in the session until confirmed (a few hundred people at most).
            request.session[SESSION_KEY] = {
                "file_name": upload.name,
                "rows": [[row.number, row.cells] for row in rows],
            }
            return redirect("people:users_preview")
    context = {"form": form, "upcoming": transfers.upcoming()}
    return render(request, "branches/users.html", context)


@admin_required
def users_preview(request):
    stored = request.session.get(SESSION_KEY)
    if not stored:
        messages.info(request, "確認中の取り込みはありません。ファイルを選んでください。")
        return redirect("people:users")
    rows = [accounts.Row(number, cells) for number, cells in stored["rows"]]
    plan = accounts.plan(rows, request.user)
    if request.method == "POST":
        if request.POST.get("digest") != plan.digest():
            messages.error(
                request,
                "確認の後で利用者が変わったため、内容が変わりました。"
                "何も変更していません。下の内容を確かめてから確定してください。",
            )
        elif not plan.has_errors:
            created = accounts.apply(plan, request.user)
            accounts.invite(created, request)
            del request.session[SESSION_KEY]
            changed = plan.count("changed")
            messages.success(
                request,
                f"「{stored['file_name']}」を取り込みました（新規 {len(created)}人・"
                f"変更 {changed}人）。新しい利用者にはパスワード設定のメールを送ります。",
            )
            return redirect("people:users")
    counts = {status: plan.count(status) for status in accounts.Planned.STATUS_LABELS}
    context = {"plan": plan, "file_name": stored["file_name"], "counts": counts}
    return render(request, "branches/users_preview.html", context)


@admin_required
def users_export(request, fmt):
    if fmt not in EXPORTS:
        raise Http404("この形式では書き出せません。")
    write, content_type = EXPORTS[fmt]
    response = HttpResponse(write(), content_type=content_type)
    name = f"利用者一覧_{timezone.localdate():%Y%m%d}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@admin_required
def logins(request):
    report = accounts.login_report()
    return render(request, "branches/logins.html", {"report": report, "days": accounts.STALE_DAYS})
