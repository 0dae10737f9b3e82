"""The record's search page: the search box's answer, one line per thing found (thin: the rules
live in apps.summaries.search)."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language, gettext_lazy
from django.views.decorators.http import require_GET

from apps.access.refusals import refusal_shown
from apps.accounts.http import AuthenticatedHttpRequest
from apps.records.selectors import record_get_for
from apps.summaries.search import QUERY_MAX_LENGTH, SearchResults, record_search


class RecordSearchForm(forms.Form):
    """Reads the query (the form is drawn by summaries/search_form.html, on the record's first page too).
    No max_length here: the service refuses a long query with its own words, the same as the API's."""

    q = forms.CharField(label=gettext_lazy("Find in this record"), required=False)


@login_required
@require_GET
def record_search_page(request: AuthenticatedHttpRequest, record_uuid: UUID) -> HttpResponse:
    record, _decision = record_get_for(actor=request.user, record_uuid=record_uuid)
    form = RecordSearchForm(request.GET)
    results: SearchResults | None = None
    if "q" in request.GET and form.is_valid():
        with refusal_shown(request, form):
            results = record_search(
                actor=request.user, record=record, query=form.cleaned_data["q"], language=get_language()
            )
    return render(
        request,
        "summaries/search.html",
        {"record": record, "form": form, "results": results, "search_max_length": QUERY_MAX_LENGTH},
        status=400 if form.errors else 200,
    )
