"""Web pages of consents: how the data is used, personal directives."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.consents.forms import DirectivesForm
from apps.consents.models import OrganDonation
from apps.consents.selectors import DIRECTIVES_FIELDS, directives_get_for, directives_history
from apps.consents.services import directives_update


def _url(name: str, *args: object) -> str | None:
    """A link to a control, or None while that page does not exist yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def data_use(request: HttpRequest) -> HttpResponse:
    """Public: how the data is stored, who sees it and why, the person's rights and the risks."""
    record = getattr(request.user, "own_record", None) if request.user.is_authenticated else None
    home = reverse("home")  # logged out, it leads to the login page first
    if record is not None:
        links = {
            "record": reverse("record_detail", args=[record.uuid]),
            "history": _url("access_history", record.uuid),
            "privacy": _url("privacy_settings", record.uuid),
            "upload": reverse("document_upload", args=[record.uuid]),
            "directives": _url("personal_directives", record.uuid),
        }
        links["codes"] = _url("access_codes", record.uuid) or links["privacy"]
    else:
        links = dict.fromkeys(("history", "privacy", "upload", "directives", "codes"), None) | {"record": home}
    # A control missing (page not built yet, or no record of one's own) falls back to "your records".
    links = {name: url or home for name, url in links.items()}
    links["security"] = reverse("security")
    contact = getattr(settings, "SUPPORT_EMAIL", "")
    return render(
        request,
        "consents/data_use.html",
        {"links": links, "has_record": record is not None, "support_email": contact},
    )


@login_required
@require_http_methods(["GET", "POST"])
def personal_directives(request: HttpRequest, record_uuid) -> HttpResponse:
    view = directives_get_for(actor=request.user, record_uuid=record_uuid)
    form = None
    status = 200
    if view.can_edit:
        initial = {name: getattr(view.directives, name) for name in DIRECTIVES_FIELDS}
        form = DirectivesForm(request.POST or None, initial=initial, record=view.record)
        if request.method == "POST" and form.is_valid():
            try:
                directives_update(actor=request.user, record=view.record, **form.cleaned_data)
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
            "visible": view.visible,
            "can_edit": view.can_edit,
            "form": form,
            "history": directives_history(record=view.record, limit=10) if view.can_edit else [],
            "refusal": OrganDonation.REFUSES,
            "donor": OrganDonation.DONOR,
        },
        status=status,
    )
