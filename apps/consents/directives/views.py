"""The personal directives page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.accounts.http import AuthenticatedHttpRequest
from apps.consents.directives.forms import DirectivesForm
from apps.consents.directives.selectors import DIRECTIVES_FIELDS, directives_get_for, directives_history
from apps.consents.directives.services import directives_update
from apps.consents.models import OrganDonation


@login_required
@require_http_methods(["GET", "POST"])
def personal_directives(request: AuthenticatedHttpRequest, record_uuid) -> HttpResponse:
    view = directives_get_for(actor=request.user, record_uuid=record_uuid)
    form = None
    status = 200
    if view.can_edit:
        initial = {name: getattr(view.directives, name) for name in DIRECTIVES_FIELDS}
        initial["advance_directives_document"] = view.document  # the link as this reader may see it
        form = DirectivesForm(request.POST or None, initial=initial, record=view.record, actor=request.user)
        if request.method == "POST" and form.is_valid():
            fields = dict(form.cleaned_data)
            if fields["advance_directives_document"] is None and view.links_unseen_document:
                del fields["advance_directives_document"]  # a link they cannot see, they do not undo
            try:
                directives_update(actor=request.user, record=view.record, **fields)
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Your choices were saved."))
                return redirect("personal_directives", record_uuid=view.record.uuid)
        if form.errors:
            status = 400
    elif request.method == "POST":
        # A professional reads, never changes: the service journals the refusal and raises (a 404).
        directives_update(actor=request.user, record=view.record)
    return render(
        request,
        "consents/directives.html",
        {
            "record": view.record,
            "decision": view.decision,
            "directives": view.directives,
            "document": view.document,
            "can_edit": view.can_edit,
            "form": form,
            "history": directives_history(record=view.record, limit=10) if view.can_edit else [],
            "refusal": OrganDonation.REFUSES,
            "donor": OrganDonation.DONOR,
        },
        status=status,
    )
