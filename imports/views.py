"""Admin-only pages of the import: upload → preview → confirm → result (→ undo).

The views stay thin: the pipeline does the work; a batch keeps the file between steps.
"""

import io
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from branches.roles import is_admin
from imports import diff, mapping, pipeline, tasks
from imports.blank_workbooks import write_template_xlsx
from imports.expiry import expire_previews
from imports.forms import MappingForm, UploadForm
from imports.models import ImportBatch

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_NAMES = {"kpi": "KPIの表_ひな形.xlsx", "monthly": "月次実績_ひな形.xlsx"}
RECENT = 10


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not is_admin(request.user):
            raise PermissionDenied("取り込みは本部管理者だけが行えます。")
        return view(request, *args, **kwargs)

    return wrapper


def _batch(pk):
    """A batch without the stored file and undo data, which pages never show."""
    batches = ImportBatch.objects.defer("content", "changes").select_related("created_by")
    return get_object_or_404(batches, pk=pk)


@admin_required
def upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > settings.IMPORT_PREVIEW_IN_REQUEST_MAX_BYTES:
            # A national workbook takes longer to read and compare than a request may last.
            batch = tasks.enqueue_preview(upload.read(), upload.name, request.user)
            return redirect("imports:progress", pk=batch.pk)
        batch = pipeline.preview(upload.read(), upload.name, request.user)
        return redirect("imports:preview", pk=batch.pk)
    expire_previews()
    recent = ImportBatch.objects.defer("content", "changes").select_related("created_by")[:RECENT]
    return render(request, "imports/upload.html", {"form": form, "recent": recent})


@admin_required
def preview(request, pk):
    batch = _batch(pk)
    if batch.status in (ImportBatch.Status.COMMITTED, ImportBatch.Status.UNDONE):
        return redirect("imports:result", pk=batch.pk)
    if batch.status in (ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING):
        return redirect("imports:progress", pk=batch.pk)  # its job previews or writes it
    return _preview_page(request, batch, MappingForm(batch.unmapped))


def _preview_page(request, batch, form):
    try:
        page = int(request.GET.get("page", 1))
    except ValueError:
        page = 1
    context = {
        "batch": batch,
        "mapping_form": form,
        "diff": diff.filtered_page(batch.diff, request.GET.get("show", ""), page),
        "more": batch.diff_total - len(batch.diff),
    }
    return render(request, "imports/preview.html", context)


@admin_required
@require_POST
def choose_mapping(request, pk):
    """The admin's choice for each unrecognised column: remembered for the header row, then
    the file is analysed again with it."""
    batch = get_object_or_404(ImportBatch.objects.select_related("created_by"), pk=pk)
    if batch.status not in pipeline.OPEN or not batch.unmapped:
        messages.error(request, "この取り込みの見出しの対応は、もう変更できません。")
        return redirect("imports:preview", pk=batch.pk)
    form = MappingForm(batch.unmapped, request.POST)
    if not form.is_valid():
        return _preview_page(request, batch, form)
    chosen = mapping.remember(batch.unmapped, form.answers(), request.user)
    batch.mapping = {**batch.mapping, **chosen}
    if pipeline.reanalyse(batch):
        messages.success(request, "見出しの対応を保存し、ファイルをもう一度確認しました。")
    else:
        messages.error(request, "この取り込みは確認待ちではなくなったため、変更していません。")
    return redirect("imports:preview", pk=batch.pk)


@admin_required
def result(request, pk):
    batch = _batch(pk)
    if batch.status not in (ImportBatch.Status.COMMITTED, ImportBatch.Status.UNDONE):
        return redirect("imports:preview", pk=batch.pk)
    return render(request, "imports/result.html", {"batch": batch})


@admin_required
def undo(request, pk):
    """GET: what the undo would restore and delete, and a button; POST: undo."""
    if request.method != "POST":
        batch = get_object_or_404(ImportBatch.objects.defer("content"), pk=pk)
        if not batch.can_undo:
            return redirect("imports:result", pk=batch.pk)
        context = {"batch": batch, "undo": diff.undo_preview(batch.changes)}
        return render(request, "imports/undo.html", context)
    batch = get_object_or_404(ImportBatch, pk=pk)
    try:
        pipeline.undo(batch, request.user)
    except pipeline.UndoRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"{batch.change_reason} を取り消しました。")
    return redirect("imports:result", pk=batch.pk)


@admin_required
def template(request, kind):
    if kind not in TEMPLATE_NAMES:
        raise Http404("ひな形がありません。")
    buffer = io.BytesIO()
    write_template_xlsx(kind, buffer)
    buffer.seek(0)
    return FileResponse(
        buffer, as_attachment=True, filename=TEMPLATE_NAMES[kind], content_type=XLSX
    )


@admin_required
def original(request, pk):
    """The file as uploaded (the audit copy)."""
    batch = get_object_or_404(ImportBatch.objects.only("file_name", "content"), pk=pk)
    return FileResponse(
        io.BytesIO(bytes(batch.content)),
        as_attachment=True,
        filename=batch.file_name,
        content_type="application/octet-stream",
    )
