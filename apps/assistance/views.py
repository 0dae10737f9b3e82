"""Support mandates' pages: the agent's desk, confirmation and list; the person's list; the manager's list."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.access.door import fetch
from apps.access.policy import Action, decide
from apps.access.professional.views import FindPatientForm
from apps.access.refusals import RecordUnavailable, refusal_shown
from apps.accounts.http import AuthenticatedHttpRequest
from apps.assistance import services
from apps.assistance.forms import MandateConfirmForm, MandateStartForm
from apps.assistance.models import ConfirmationMethod, Mandate, MandateScope, StructureManager
from apps.assistance.selectors import account_state
from apps.records import selectors
from apps.records.models import Record

FOUND_KEY = "assistance_found_record"

STATE_LABELS = {
    "waiting": gettext_lazy("waiting for confirmation"),
    "active": gettext_lazy("active"),
    "ended": gettext_lazy("ended"),
    "revoked": gettext_lazy("stopped"),
    "cancelled": gettext_lazy("cancelled"),
}


def state_label(state: str) -> str:
    return str(STATE_LABELS[state])


def _rows(mandates: list[Mandate]) -> list[dict]:
    now = timezone.now()
    rows = []
    for mandate in mandates:
        state = mandate.state(now)
        rows.append(
            {
                "mandate": mandate,
                "state": state,
                "state_label": state_label(state),
                "account_help": state == "active" and MandateScope.ACCOUNT_HELP in mandate.scopes,
                "may_accept": state == "waiting",
            }
        )
    return rows


def _agent_only(request: AuthenticatedHttpRequest) -> None:
    if not request.user.is_support_agent:
        raise Http404


def _found(request: AuthenticatedHttpRequest) -> Record | None:
    """The record the agent's own search found (journaled then); the service acting on it decides again."""
    uuid = request.session.get(FOUND_KEY)
    if not uuid:
        return None
    try:
        return fetch(request.user, Record.objects.select_related("owner"), uuid, Action.RECORD_VIEW, journal=False)
    except RecordUnavailable:
        return None


def _desk(
    request: AuthenticatedHttpRequest, *, find_form, record, searched, start_form=None, status=200
) -> HttpResponse:
    context = {"find_form": find_form, "record": record, "searched": searched}
    if record is not None:
        account = account_state(record=record)
        # The person with a confirmed e-mail confirms by code; anyone else signs a paper a manager countersigns.
        method = ConfirmationMethod.EMAIL_CODE if account.email_confirmed else ConfirmationMethod.SIGNED_PAPER
        context |= {
            "account": account,
            "start_form": start_form or MandateStartForm(initial={"method": method}),
            # A display choice, not an access: the account page decides (and journals) itself.
            "may_help": decide(actor=request.user, record=record, action=Action.ACCOUNT_HELP).allowed,
        }
    return render(request, "assistance/desk.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def desk(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Find the person by exact identity; see their names and account state; start a mandate."""
    _agent_only(request)
    if request.method == "GET":
        return _desk(request, find_form=FindPatientForm(), record=_found(request), searched=False)
    form = FindPatientForm(request.POST)
    if not form.is_valid():
        return _desk(request, find_form=form, record=None, searched=False, status=400)
    record = services.record_find(agent=request.user, **form.cleaned_data)
    request.session[FOUND_KEY] = str(record.uuid) if record else None
    return _desk(request, find_form=FindPatientForm(), record=record, searched=True)


@login_required
@require_POST
@reauthentication_required
def mandate_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    _agent_only(request)
    record = _found(request)
    if record is None:
        return redirect("assistance_desk")
    form = MandateStartForm(request.POST)
    if form.is_valid():
        with refusal_shown(request, form):
            mandate = services.mandate_start(agent=request.user, record=record, **form.cleaned_data)
            request.session.pop(FOUND_KEY, None)
            return redirect("assistance_confirm", mandate_uuid=mandate.uuid)
    return _desk(request, find_form=FindPatientForm(), record=record, searched=True, start_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def mandate_confirm(request: AuthenticatedHttpRequest, mandate_uuid) -> HttpResponse:
    """The agent types the code the person received on their e-mail. A paper mandate waits here
    for a manager's countersignature: the agent cannot confirm it."""
    _agent_only(request)
    mandate = services.mandate_get_for_agent(request.user, mandate_uuid, Action.MANDATE_CONFIRM)
    paper = mandate.confirmation_method == ConfirmationMethod.SIGNED_PAPER
    form = MandateConfirmForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and not ratelimit.consume(request, action="mandate_code", key=str(mandate.uuid)):
            form.add_error("code", _("Too many tries. Wait 10 minutes, then try again."))
        elif form.is_valid():
            try:
                mandate = services.mandate_confirm(
                    agent=request.user, mandate_uuid=mandate.uuid, code=form.cleaned_data["code"]
                )
            except services.MandateRefused as refusal:
                form.add_error("code", refusal.message)
                mandate.refresh_from_db()
            else:
                messages.success(
                    request,
                    _("The mandate is confirmed. You may act for %(name)s until %(date)s.")
                    % {"name": mandate.record.full_name, "date": timezone.localtime(mandate.expires_at).date()},
                )
                return redirect("assistance_mandates")
        status = 400
    state = mandate.state()
    return render(
        request,
        "assistance/confirm.html",
        {
            "mandate": mandate,
            "form": form,
            "state": state,
            "state_label": state_label(state),
            "paper": paper,
            "countersigners": services.countersigners(structure_id=mandate.structure_id, agent=request.user)
            if paper
            else [],
        },
        status=status,
    )


@login_required
def mandate_pdf(request: AuthenticatedHttpRequest, mandate_uuid) -> HttpResponse:
    _agent_only(request)
    pdf = services.mandate_pdf(agent=request.user, mandate_uuid=mandate_uuid)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"mandate-{mandate_uuid}.pdf")
    return response


@login_required
def my_mandates(request: AuthenticatedHttpRequest) -> HttpResponse:
    _agent_only(request)
    rows = _rows(services.mandates_of_agent(agent=request.user))
    return render(request, "assistance/my_mandates.html", {"rows": rows})


@login_required
def structure_mandates(request: AuthenticatedHttpRequest) -> HttpResponse:
    """All mandates of the manager's structures, and the paper ones waiting for their countersignature."""
    structures = [m.structure for m in StructureManager.objects.filter(user=request.user).select_related("structure")]
    if not structures:
        raise Http404
    rows = _rows(services.mandates_of_structure(manager=request.user))
    to_countersign = services.mandates_to_countersign(manager=request.user)
    return render(
        request,
        "assistance/structure.html",
        {"rows": rows, "structures": structures, "to_countersign": to_countersign},
    )


@login_required
@require_POST
@reauthentication_required
def mandate_countersign(request: AuthenticatedHttpRequest, mandate_uuid) -> HttpResponse:
    """A manager, not the agent, confirms a paper mandate after seeing the paper the person signed."""
    with refusal_shown(request):
        mandate = services.mandate_countersign(manager=request.user, mandate_uuid=mandate_uuid)
        messages.success(
            request,
            _("You countersigned the mandate: %(agent)s may now act for %(name)s. The person is told.")
            % {"agent": mandate.agent, "name": mandate.record.full_name},
        )
    return redirect("assistance_structure")


@login_required
@require_POST
def mandate_accept(request: AuthenticatedHttpRequest, mandate_uuid) -> HttpResponse:
    """The person confirms, on their own page, a mandate an agent prepared for them."""
    with refusal_shown(request):
        mandate = services.mandate_accept(actor=request.user, mandate_uuid=mandate_uuid)
        messages.success(
            request,
            _("You confirmed the mandate: %(agent)s may help you until %(date)s. You can stop it at any time.")
            % {"agent": mandate.agent, "date": timezone.localtime(mandate.expires_at).date()},
        )
        return redirect("record_mandates", record_uuid=mandate.record.uuid)
    # Refused after the policy let the person manage this record (e.g. they prepared it): back to its list.
    mandate = Mandate.objects.select_related("record").get(uuid=mandate_uuid)
    return redirect("record_mandates", record_uuid=mandate.record.uuid)


@login_required
def record_mandates(request: AuthenticatedHttpRequest, record_uuid) -> HttpResponse:
    # Only the person or a parent: anyone else gets a 404, journaled.
    record, _decision = selectors.record_get_for(
        actor=request.user, record_uuid=record_uuid, action=Action.DELEGATION_MANAGE
    )
    rows = _rows(services.mandates_for_record(actor=request.user, record=record))
    return render(request, "assistance/record_mandates.html", {"record": record, "rows": rows})


@login_required
@require_POST
def mandate_revoke(request: AuthenticatedHttpRequest, mandate_uuid) -> HttpResponse:
    mandate = services.mandate_revoke(actor=request.user, mandate_uuid=mandate_uuid)
    messages.success(
        request,
        _("%(agent)s can no longer act for %(name)s. This took effect at once.")
        % {"agent": mandate.agent, "name": mandate.record.full_name},
    )
    if services.manages(user=request.user, structure_id=mandate.structure_id):
        return redirect("assistance_structure")
    return redirect("record_mandates", record_uuid=mandate.record.uuid)
