"""Confirming an import and following its job: confirm → progress → result (or back to the
preview). The job itself is imports/tasks.py; the page polls `progress_status` with
static/js/import-progress.js (no inline script under the CSP), or refreshes itself without
JavaScript."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from imports import tasks
from imports.models import ImportBatch
from imports.views import _batch, admin_required

Status = ImportBatch.Status


@admin_required
@require_POST
def confirm(request, pk):
    batch = _batch(pk)
    if batch.status in (*tasks.IN_PROGRESS, Status.COMMITTED, Status.UNDONE):
        return _taken(request, batch)
    if not batch.can_commit:
        messages.error(request, "この取り込みは確定できません。内容を確かめてください。")
        return redirect("imports:preview", pk=batch.pk)
    confirmed = request.POST.get("confirm_warnings") == "1"
    if batch.warnings and not confirmed:
        messages.error(request, "警告の内容を確かめ、「警告を確認した」にチェックしてください。")
        return redirect("imports:preview", pk=batch.pk)
    if batch.protected_plans and request.POST.get("confirm_protected") != "1":
        messages.error(
            request,
            f"提出・公表済みの計画（{'、'.join(batch.protected_plans)}）を変更するファイルです。"
            "変更してよいか確かめ、「提出済み・公表済みの計画を変更することを確認した」に"
            "チェックしてください。",
        )
        return redirect("imports:preview", pk=batch.pk)
    if not tasks.enqueue(batch, request.user, confirm_warnings=confirmed):
        return _taken(request, _batch(pk))
    return _follow(request, _batch(pk))


def _taken(request, batch):
    """A second confirm (double click, another tab, a confirm while the job runs): refused,
    and the batch left as the first confirm made it."""
    messages.error(
        request,
        f"取り込み #{batch.pk} はすでに確定されています。この操作では何も変更していません。",
    )
    if batch.status in tasks.IN_PROGRESS:
        return redirect("imports:progress", pk=batch.pk)
    if batch.status in (Status.COMMITTED, Status.UNDONE):
        return redirect("imports:result", pk=batch.pk)
    return redirect("imports:preview", pk=batch.pk)


@admin_required
def progress(request, pk):
    batch = _batch(pk)
    if batch.status in tasks.IN_PROGRESS:
        context = {"batch": batch, "state": tasks.progress_of(batch)}
        return render(request, "imports/progress.html", context)
    return _follow(request, batch)


def _follow(request, batch):
    """To the progress page while the job runs; then to where it ended, saying how."""
    if batch.status in tasks.IN_PROGRESS:
        return redirect("imports:progress", pk=batch.pk)
    if batch.status == Status.COMMITTED:
        messages.success(request, f"{batch.change_reason} を取り込みました。")
        return redirect("imports:result", pk=batch.pk)
    if batch.status == Status.UNDONE:
        return redirect("imports:result", pk=batch.pk)
    if batch.status == Status.PREVIEWED and batch.task_id:
        messages.error(
            request, "新しい警告があります。内容を確かめてから、もう一度確定してください。"
        )
    elif batch.status in (Status.REJECTED, Status.FAILED):
        messages.error(
            request, "取り込めませんでした（何も変更していません）。エラーを確かめてください。"
        )
    return redirect("imports:preview", pk=batch.pk)


@admin_required
def progress_status(request, pk):
    """The progress page's poll: a few numbers, and the page to go to once the job is over."""
    batch = _batch(pk)
    state = tasks.progress_of(batch)
    if state["finished"]:
        state["next"] = reverse("imports:progress", args=[batch.pk])
    return JsonResponse(state, headers={"Cache-Control": "no-store"})
