"""Web pages for documents: upload, one document, its content, the person's actions (the record's
first page, which lists them under the summary, is composed in apps/summaries/record_page.py)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.access.policy import Action, decide
from apps.access.refusals import refusal_shown
from apps.access.visibility import who_can_see
from apps.accounts.http import AuthenticatedHttpRequest
from apps.clinical.models import FactKind
from apps.clinical.selectors import facts_of_document
from apps.intake import inspection
from apps.records import documents, selectors
from apps.records.forms import CareDateField, UploadForm
from apps.records.models import CareDateSource, DocumentCategory, DocumentSource, DocumentStatus
from apps.records.timeline import TimelineFilters

SAFE_INLINE = {"application/pdf", "image/jpeg", "image/png"}


class TimelineFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=200)
    category = forms.ChoiceField(
        label=gettext_lazy("Category"), required=False, choices=[("", gettext_lazy("All")), *DocumentCategory.choices]
    )
    source = forms.ChoiceField(
        label=gettext_lazy("Source"), required=False, choices=[("", gettext_lazy("All")), *DocumentSource.choices]
    )
    author = forms.CharField(label=gettext_lazy("Author"), required=False, max_length=200)
    organisation = forms.CharField(label=gettext_lazy("Organisation"), required=False, max_length=200)
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def filters(self) -> TimelineFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return TimelineFilters(
            query=data.get("q", ""),
            category=data.get("category", ""),
            source=data.get("source", ""),
            author=data.get("author", ""),
            organisation=data.get("organisation", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


class DocumentEditForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=300)
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=DocumentCategory.choices)
    care_date = CareDateField(label=gettext_lazy("Date of care"))


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: AuthenticatedHttpRequest, record_uuid) -> HttpResponse:
    record, _decision = selectors.record_get_for(
        actor=request.user, record_uuid=record_uuid, action=Action.DOCUMENT_UPLOAD
    )
    if request.method == "GET":
        return render(request, "records/upload.html", {"record": record, "form": UploadForm()})
    files = request.FILES.getlist("files")
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    form = UploadForm(request.POST)
    if not files:
        if wants_json:
            return JsonResponse({"error": _("Choose at least one file.")}, status=400)
        messages.error(request, _("Choose at least one file."))
        return render(request, "records/upload.html", {"record": record, "form": form}, status=400)
    if form.is_valid():
        with refusal_shown(request, form):  # checked once for all the files, before any is stored
            documents.care_date_check(record=record, care_date=form.cleaned_data["care_date"])
    if form.errors:
        message = " ".join(str(error) for errors in form.errors.values() for error in errors)
        if wants_json:
            refused = [{"name": f.name, "ok": False, "message": message} for f in files]
            return JsonResponse({"error": message, "results": refused}, status=400)
        return render(request, "records/upload.html", {"record": record, "form": form}, status=400)
    results = []
    for upload_file in files:
        try:
            outcome = documents.document_upload(
                actor=request.user,
                record=record,
                filename=upload_file.name or "",
                data=upload_file.read(),
                care_date=form.cleaned_data["care_date"],
            )
        except documents.UploadRefused as refusal:
            results.append({"name": upload_file.name, "ok": False, "message": refusal.message})
        else:
            message = (
                _("You already have this document: it was not added twice.")
                if outcome.duplicate
                else _("Received. It is being processed; you will be told when it is ready.")
            )
            results.append(
                {
                    "name": outcome.document.original_filename,
                    "ok": True,
                    "duplicate": outcome.duplicate,
                    "message": message,
                    "document": str(outcome.document.uuid),
                    "status": outcome.document.status,
                }
            )
    if wants_json:
        return JsonResponse({"results": results}, status=200 if all(r["ok"] for r in results) else 400)
    status = 200 if all(r["ok"] for r in results) else 400
    return render(
        request, "records/upload.html", {"record": record, "results": results, "form": UploadForm()}, status=status
    )


@login_required
def document_detail(request: AuthenticatedHttpRequest, document_uuid) -> HttpResponse:
    document = documents.document_get_for(actor=request.user, document_uuid=document_uuid)
    facts_by_kind = []
    facts = list(facts_of_document(document).order_by("kind", "-effective_date", "display"))
    for kind, label in FactKind.choices:
        rows = [fact for fact in facts if fact.kind == kind]
        if rows:
            facts_by_kind.append((label, rows))
    return render(
        request,
        "records/document_detail.html",
        {
            "document": document,
            "record": document.record,
            "facts_by_kind": facts_by_kind,
            "rejection": documents.rejection_message(document.rejection_code) if document.rejection_code else "",
            "edit_form": DocumentEditForm(
                initial={"title": document.title, "category": document.category, "care_date": document.care_date}
            ),
            "care_date_source": CareDateSource(document.care_date_source).label
            if document.care_date_source in CareDateSource.values
            else "",
            "ready": document.status == DocumentStatus.READY,
            "can_manage": decide(actor=request.user, record=document.record, action=Action.DOCUMENT_EDIT).allowed,
            # A professional caring for a minor can keep a document from the parents.
            "can_mark_confidential": document.record.guardianships.active().exists()
            and decide(actor=request.user, record=document.record, action=Action.DOCUMENT_CONFIDENTIAL).allowed,
            "who_can_see": who_can_see(document=document, reader=request.user)
            if decide(actor=request.user, record=document.record, action=Action.SETTINGS_READ).allowed
            else [],
            "inline_ok": document.mime_type in SAFE_INLINE and not document.has_active_content,
        },
    )


def _content_response(data: bytes, *, inline: bool, mime_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=mime_type)
    # Django escapes quotes and encodes non-ASCII names (RFC 6266 filename*): no header injection.
    disposition = content_disposition_header(not inline, inspection.served_filename(name=filename, mime_type=mime_type))
    if disposition is not None:  # None only for an unnamed inline file: served_filename always names one
        response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    # Shown inline, a file runs no script and reaches nothing of ours.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def document_content(request: AuthenticatedHttpRequest, document_uuid) -> HttpResponse:
    document, data = documents.document_content(actor=request.user, document_uuid=document_uuid)
    inline = request.GET.get("inline") == "1" and document.mime_type in SAFE_INLINE and not document.has_active_content
    return _content_response(
        data,
        inline=inline,
        mime_type=document.mime_type or "application/octet-stream",
        filename=document.original_filename,
    )


@login_required
def document_preview(request: AuthenticatedHttpRequest, document_uuid) -> HttpResponse:
    _document, data = documents.document_content(actor=request.user, document_uuid=document_uuid, preview=True)
    return _content_response(data, inline=True, mime_type="image/png", filename="preview.png")


@login_required
@require_POST
def document_edit(request: AuthenticatedHttpRequest, document_uuid) -> HttpResponse:
    form = DocumentEditForm(request.POST)
    if form.is_valid():
        with refusal_shown(request):
            documents.document_update(
                actor=request.user,
                document_uuid=document_uuid,
                title=form.cleaned_data["title"],
                category=form.cleaned_data["category"],
                care_date=form.cleaned_data["care_date"],
            )
            messages.success(request, _("The document was changed."))
    else:
        messages.error(request, _("The change was not saved: check the title, the category and the date of care."))
    return redirect("document_detail", document_uuid=document_uuid)


@login_required
@require_POST
def document_mask(request: AuthenticatedHttpRequest, document_uuid) -> HttpResponse:
    masked = request.POST.get("masked") == "1"
    documents.document_set_masked(actor=request.user, document_uuid=document_uuid, masked=masked)
    messages.success(
        request,
        _("This document is now hidden from professionals.")
        if masked
        else _("Professionals can see this document again."),
    )
    return redirect("document_detail", document_uuid=document_uuid)


@login_required
@require_http_methods(["GET", "POST"])
def document_delete(request: AuthenticatedHttpRequest, document_uuid) -> HttpResponse:
    if request.method == "POST":
        record_uuid = documents.document_delete(actor=request.user, document_uuid=document_uuid)
        messages.success(request, _("The document was deleted."))
        return redirect("record_detail", record_uuid=record_uuid)
    document = documents.document_get_for(actor=request.user, document_uuid=document_uuid)
    return render(request, "records/document_delete.html", {"document": document, "record": document.record})
