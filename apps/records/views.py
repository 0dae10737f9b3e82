from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.accounts.http import AuthenticatedHttpRequest
from apps.delegations.services import delegations_of
from apps.records import selectors, services
from apps.records.forms import DependentForm
from apps.records.models import InsSystem


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    records = selectors.records_for(actor=request.user)
    # What the person may do for others: their own view of their delegations, no record content.
    helping = delegations_of(user=request.user)
    by_record = {delegation.record_id: delegation for delegation in helping}
    entries = [
        {
            "record": record,
            "delegation": None if record.owner_id == request.user.pk else by_record.get(record.pk),
        }
        for record in records
    ]
    return render(request, "records/home.html", {"records": records, "entries": entries, "helping": helping})


@login_required
@require_http_methods(["GET", "POST"])
def dependent_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = DependentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        identity = form.identity()
        if identity["ins"]:
            identity["ins_system"] = InsSystem.NIR
        try:
            record = services.dependent_create(parent=request.user, **identity)
        except PermissionDenied as error:
            messages.error(request, str(error))
            return redirect("home")
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The record of %(name)s is ready.") % {"name": record.given_names})
            return redirect("record_detail", record_uuid=record.uuid)
    return render(request, "records/dependent_form.html", {"form": form}, status=400 if form.errors else 200)
