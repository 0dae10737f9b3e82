"""Pages of the summary PDF: start an export, follow its progress, download it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.http import AuthenticatedHttpRequest
from apps.clinical.models import FactKind
from apps.summaries import all_facts, exports
from apps.summaries.models import SummaryExport

if TYPE_CHECKING:
    from apps.access.policy import Decision
    from apps.records.models import Record

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


# --- Everything the summary leaves out: all results, all conditions, all medications ----------

# The words of the two history pages (one template).
HISTORY_PAGES: dict[str, dict[str, Any]] = {
    FactKind.CONDITION: {
        "title": _("All conditions and history"),
        "what": _("Condition"),
        "current": _("Current conditions"),
        "possibly_stopped": "",
        "past": _("Past, ruled out or none known"),
        "intro": _(
            "Every condition in this record, from its documents or declared, those that are over included. "
            "Each line shows its most recent mention."
        ),
    },
    FactKind.MEDICATION: {
        "title": _("All medications"),
        "what": _("Medication"),
        "current": _("Current medications"),
        "possibly_stopped": _("Possibly no longer taken"),
        "past": _("Past medications"),
        "intro": _(
            "Every medication in this record, from its documents or declared, those that were stopped included. "
            "Each line shows its most recent mention."
        ),
    },
}


@login_required
@require_GET
def all_results(request: AuthenticatedHttpRequest, record_uuid: UUID) -> HttpResponse:
    record, decision, panels = all_facts.all_results_get(actor=request.user, record_uuid=record_uuid)
    return render(
        request,
        "summaries/all_results.html",
        {
            "record": record,
            "panels": panels,
            "count": all_facts.panel_counts(panels),
            "show_codes": all_facts.shows_codes(decision),
        },
    )


@login_required
@require_GET
def all_conditions(request: AuthenticatedHttpRequest, record_uuid: UUID) -> HttpResponse:
    record, decision, lines = all_facts.history_get(
        actor=request.user, record_uuid=record_uuid, kind=FactKind.CONDITION
    )
    return _history_page(request, record, decision, lines, HISTORY_PAGES[FactKind.CONDITION])


@login_required
@require_GET
def all_medications(request: AuthenticatedHttpRequest, record_uuid: UUID) -> HttpResponse:
    record, decision, lines = all_facts.history_get(
        actor=request.user, record_uuid=record_uuid, kind=FactKind.MEDICATION
    )
    return _history_page(request, record, decision, lines, HISTORY_PAGES[FactKind.MEDICATION])


def _history_page(
    request: AuthenticatedHttpRequest,
    record: Record,
    decision: Decision,
    lines: list[all_facts.HistoryLine],
    words: dict[str, Any],
) -> HttpResponse:
    sections = [
        (key, words[key], section)
        for key, section in all_facts.history_sections(lines).items()
        if key != "possibly_stopped" or section  # that heading only when a medication is in it
    ]
    return render(
        request,
        "summaries/history.html",
        {"record": record, "sections": sections, "words": words, "show_codes": all_facts.shows_codes(decision)},
    )
