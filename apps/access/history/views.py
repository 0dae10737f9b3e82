"""The access history pages: the list a patient reads, and its CSV and PDF exports."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING
from uuid import UUID

from defusedcsv import csv
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.access.history.export import journal_proof_get_for
from apps.access.history.services import (
    ACTION_GROUPS,
    EXPORT_LIMIT,
    ActorKind,
    HistoryFilters,
    HistoryPage,
    cursor_decode,
    cursor_encode,
    history_get_for,
)
from apps.access.journal_keys import public_key_b64
from apps.access.models import Outcome
from apps.access.verification import last_verification
from apps.accounts.http import AuthenticatedHttpRequest

if TYPE_CHECKING:
    from apps.access.models import JournalVerification

_ALL = ("", gettext_lazy("All"))


class HistoryFilterForm(forms.Form):
    actor_kind = forms.ChoiceField(label=gettext_lazy("Who"), required=False, choices=[_ALL, *ActorKind.choices])
    person = forms.CharField(label=gettext_lazy("Name of the person"), required=False, max_length=200)
    action_group = forms.ChoiceField(
        label=gettext_lazy("What"),
        required=False,
        choices=[_ALL, *((key, label) for key, (label, _actions) in ACTION_GROUPS.items())],
    )
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    outcome = forms.ChoiceField(
        label=gettext_lazy("Result"),
        required=False,
        choices=[_ALL, (Outcome.ALLOWED, gettext_lazy("Allowed")), (Outcome.DENIED, gettext_lazy("Refused"))],
    )

    def filters(self) -> HistoryFilters:
        """The valid fields only: one wrong date does not drop the other filters."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return HistoryFilters(
            actor_kind=data.get("actor_kind", ""),
            person=data.get("person", ""),
            action_group=data.get("action_group", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            outcome=data.get("outcome", ""),
        )


def _filter_query(request: HttpRequest) -> QueryDict:
    query = request.GET.copy()
    query.pop("before", None)
    return query


@login_required
def history(request: AuthenticatedHttpRequest, record_uuid: UUID) -> HttpResponse:
    form = HistoryFilterForm(request.GET or None)
    page = history_get_for(
        actor=request.user,
        record_uuid=record_uuid,
        filters=form.filters(),
        before=cursor_decode(request.GET.get("before", "")),
    )
    query = _filter_query(request).urlencode()
    return render(
        request,
        "access/history.html",
        {
            "record": page.record,
            "page": page,
            "days": page.days(),
            "form": form,
            "filtered": any(value for key, value in request.GET.items() if key != "before"),
            "query_string": query,
            "next_cursor": cursor_encode(page.next_before) if page.next_before is not None else "",
        },
    )


def _export_page(request: AuthenticatedHttpRequest, record_uuid: UUID) -> HistoryPage:
    form = HistoryFilterForm(request.GET or None)
    return history_get_for(actor=request.user, record_uuid=record_uuid, filters=form.filters(), limit=EXPORT_LIMIT)


def _filename(page: HistoryPage, extension: str) -> str:
    return f"access-history-{page.record.uuid}-{timezone.localdate().isoformat()}.{extension}"


@login_required
def history_csv(request: AuthenticatedHttpRequest, record_uuid: UUID) -> HttpResponse:
    page = _export_page(request, record_uuid)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # the BOM tells spreadsheet apps the file is UTF-8
    # defusedcsv prefixes a cell starting with = + - @ | % with a quote, so that a spreadsheet
    # shows an actor's or a document's name as text and never runs it as a formula.
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("Date and time"),
            _("What happened"),
            _("Who"),
            _("On behalf of"),
            _("Role"),
            _("Action"),
            _("Resource"),
            _("Basis"),
            _("Result"),
            _("Reason"),
        ]
    )
    for entry in page.entries:
        event = entry.event
        writer.writerow(
            [
                timezone.localtime(event.occurred_at).isoformat(timespec="seconds"),
                *map(
                    _cell,
                    (
                        entry.sentence,
                        event.actor_label,
                        event.on_behalf_of_label,
                        entry.role_label,
                        entry.action_label,
                        event.resource_label,
                        entry.basis_phrase,
                        entry.outcome_label,
                        entry.reason,
                    ),
                ),
            ]
        )
    if page.more:
        writer.writerow(["", _("Only the %(count)s most recent entries are in this file.") % {"count": EXPORT_LIMIT}])
    response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, _filename(page, "csv"))
    return response


def _cell(value: object) -> str:
    """Text for a cell; what defusedcsv does not cover: a tab, a carriage return or spaces before a formula."""
    text = str(value)
    if text[:1] in ("\t", "\r", "\n") or (text[:1] == " " and text.lstrip()[:1] in FORMULA_STARTS):
        return "'" + text
    return text


FORMULA_STARTS = ("=", "+", "-", "@", "|", "%")


def verification_sentence(check: JournalVerification | None) -> str:
    """The last journal check (run by a scheduled task, never in this request), in words."""
    if check is None:
        return _("The access journal has not been checked yet.")
    when = formats.date_format(timezone.localtime(check.checked_at), "DATETIME_FORMAT")
    if check.intact:
        return _("The access journal was last checked on %(date)s: intact (%(count)s entries checked).") % {
            "date": when,
            "count": check.verified,
        }
    return _("The access journal was last checked on %(date)s: damaged (%(problem)s).") % {
        "date": when,
        "problem": "; ".join(check.problems[:3]),
    }


@login_required
def history_pdf(request: AuthenticatedHttpRequest, record_uuid: UUID) -> HttpResponse:
    from weasyprint import HTML

    page = _export_page(request, record_uuid)
    now = timezone.now()
    html = render_to_string(
        "access/history_pdf.html",
        {
            "record": page.record,
            "page": page,
            "days": page.days(),
            "generated_at": now,
            "verification": verification_sentence(last_verification()),
            "limit": EXPORT_LIMIT,
        },
        request=request,
    )
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, _filename(page, "pdf"))
    return response


@login_required
def history_journal(request: AuthenticatedHttpRequest, record_uuid: UUID) -> HttpResponse:
    """The record's journal chain and its checkpoint proof, to check offline (journal_offline.py)."""
    record, proof = journal_proof_get_for(actor=request.user, record_uuid=record_uuid)
    response = HttpResponse(json.dumps(proof, indent=1), content_type="application/json")
    name = f"access-journal-{record.uuid}-{timezone.localdate().isoformat()}.json"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def journal_public_key(request: HttpRequest) -> HttpResponse:
    """The key that signs journal checkpoints (public), to compare with the one in a downloaded file."""
    return HttpResponse(public_key_b64() + "\n", content_type="text/plain; charset=utf-8")
