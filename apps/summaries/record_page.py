"""The record's first page: the summary ("what matters now?") above the timeline of documents.

It composes summaries and records, so it lives at the top floor, with the summaries."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from apps.access.policy import Action, decide
from apps.accounts.http import AuthenticatedHttpRequest
from apps.records import selectors
from apps.records.document_views import TimelineFilterForm
from apps.records.models import DocumentCategory
from apps.records.timeline import documents_timeline
from apps.summaries.builder import record_summary
from apps.summaries.presentation import results_for_display


@login_required
def record_page(request: AuthenticatedHttpRequest, record_uuid) -> HttpResponse:
    record, decision = selectors.record_get_for(actor=request.user, record_uuid=record_uuid)
    summary = None
    if not request.GET and decide(actor=request.user, record=record, action=Action.PROFILE_READ).allowed:
        # The record's first screen answers "what matters now?" before the documents.
        summary = record_summary(actor=request.user, record=record)
    form = TimelineFilterForm(request.GET or None)
    page = documents_timeline(
        actor=request.user, record=record, filters=form.filters(), cursor=request.GET.get("after", "")
    )
    groups: list[tuple[date, list]] = []
    for document in page.documents:
        month = document.sort_day.replace(day=1)
        if not groups or groups[-1][0] != month:
            groups.append((month, []))
        groups[-1][1].append(document)
    categories = [(value, label, page.category_counts.get(value, 0)) for value, label in DocumentCategory.choices]
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "records/timeline.html",
        {
            "record": record,
            "decision": decision,
            "form": form,
            "groups": groups,
            "categories": [c for c in categories if c[2]],
            "next_cursor": page.next_cursor,
            "query_string": query.urlencode(),
            "summary": summary,
            "results": results_for_display(summary) if summary else [],
            # What the page offers (not an access: nothing is read): no journal entry.
            "can_upload": decide(actor=request.user, record=record, action=Action.DOCUMENT_UPLOAD).allowed,
            "can_manage": decide(actor=request.user, record=record, action=Action.SETTINGS_EDIT).allowed,
            "can_read_history": decide(actor=request.user, record=record, action=Action.JOURNAL_READ).allowed,
            # The caregivers' and mandates' pages are decided as managing delegations (not a settings caregiver's).
            "can_manage_helpers": decide(actor=request.user, record=record, action=Action.DELEGATION_MANAGE).allowed,
            # The parents' page is decided as inviting the second parent (a parent's act).
            "can_manage_family": decide(actor=request.user, record=record, action=Action.RECORD_INVITE).allowed,
        },
    )
