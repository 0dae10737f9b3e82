"""Pages of the summary PDF: start an export, follow its progress, download it."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.http import AuthenticatedHttpRequest
from apps.summaries import exports
from apps.summaries.models import SummaryExport

REFRESH_SECONDS = 3


def pdf_response(export: SummaryExport, data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, exports.export_filename(export))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def summary_pdf_request(request: AuthenticatedHttpRequest, record_uuid: UUID) -> HttpResponse:
    export = exports.summary_export_request_for(actor=request.user, record_uuid=record_uuid, language=get_language())
    return redirect("summary_export", export_uuid=export.uuid)


@login_required
@require_GET
def summary_export(request: AuthenticatedHttpRequest, export_uuid: UUID) -> HttpResponse:
    export = exports.summary_export_get_for(actor=request.user, export_uuid=export_uuid)
    return render(
        request,
        "summaries/export.html",
        {"export": export, "record": export.record, "refresh_seconds": REFRESH_SECONDS},
    )


@login_required
@require_GET
def summary_export_download(request: AuthenticatedHttpRequest, export_uuid: UUID) -> HttpResponse:
    try:
        export, data = exports.summary_export_content(actor=request.user, export_uuid=export_uuid)
    except exports.ExportNotReady:
        return redirect("summary_export", export_uuid=export_uuid)
    return pdf_response(export, data)
