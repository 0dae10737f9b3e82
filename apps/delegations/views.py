"""Caregivers' pages: the person's list and invitation form, the invitation to accept, stepping down."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.access.policy import Action
from apps.access.refusals import refusal_shown
from apps.accounts.http import AuthenticatedHttpRequest
from apps.delegations import services
from apps.delegations.forms import DelegationInviteForm
from apps.delegations.models import Delegation
from apps.records import selectors


def delegation_state(delegation: Delegation, now=None) -> str:
    """waiting / active / ended / revoked: what the person reads next to each caregiver."""
    now = now or timezone.now()
    if delegation.revoked_at:
        return "revoked"
    if delegation.accepted_at is None:
        return "waiting" if delegation.invitation_expires_at > now else "ended"
    if delegation.expires_at is not None and delegation.expires_at <= now:
        return "ended"
    return "active"


def state_label(state: str) -> str:
    return {
        "waiting": _("waiting for acceptance"),
        "active": _("active"),
        "ended": _("ended"),
        "revoked": _("stopped"),
    }[state]


def invitation_refusal(delegation: Delegation | None, user) -> str | None:
    """Why this account may not accept this invitation (the service's own words), or None.

    The accept page checks before showing who invites whom, so a wrong account
    learns nothing about the record; ``delegation_accept`` checks again on POST.
    """
    if delegation is None or delegation.revoked_at:
        return _("This invitation is not valid, or it was cancelled.")
    if delegation.accepted_at:
        return None if delegation.delegate_id == user.pk else _("This invitation was already accepted.")
    if delegation.invitation_expires_at <= timezone.now():
        return _("This invitation has expired. Ask for a new one.")
    if (user.email or "").lower() != delegation.invited_email:
        return _("This invitation was sent to another e-mail address. Log in with the account of that address.")
    return None


@login_required
# Inviting a caregiver hands over the record: the password is asked again before the invitation
# is sent (the page itself stays readable).
@reauthentication_required(allow_get=True)
@require_http_methods(["GET", "POST"])
def record_caregivers(request: AuthenticatedHttpRequest, record_uuid) -> HttpResponse:
    # A delegate, a stranger, a professional: refused like a missing record (404), and journaled.
    record, _decision = selectors.record_get_for(
        actor=request.user, record_uuid=record_uuid, action=Action.DELEGATION_MANAGE
    )
    form = DelegationInviteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            with refusal_shown(request, form):
                delegation, _token = services.delegation_invite(
                    actor=request.user,
                    record=record,
                    email=form.cleaned_data["email"],
                    scopes=form.cleaned_data["scopes"],
                    expires_at=form.expires_at(),
                )
                messages.success(
                    request,
                    _("An invitation was sent to %(email)s. They act for you once they accept it.")
                    % {"email": delegation.invited_email},
                )
                return redirect("record_caregivers", record_uuid=record.uuid)
        status = 400
    now = timezone.now()
    rows = []
    for delegation in services.delegations_for_record(actor=request.user, record=record):
        state = delegation_state(delegation, now)
        rows.append({"delegation": delegation, "state": state, "state_label": state_label(state)})
    return render(
        request,
        "delegations/caregivers.html",
        {"record": record, "form": form, "rows": rows},
        status=status,
    )


@login_required
@require_POST
def delegation_stop(request: AuthenticatedHttpRequest, delegation_uuid) -> HttpResponse:
    """The person (or a parent) stops a caregiver; a caregiver stops helping. A 404 for anyone else."""
    delegation = services.delegation_revoke(actor=request.user, delegation_uuid=delegation_uuid)
    record = delegation.record
    if delegation.delegate_id is not None and delegation.delegate_id == request.user.pk:
        messages.success(request, _("You no longer act for %(name)s.") % {"name": record})
        return redirect("home")
    who = delegation.delegate.display_name if delegation.delegate is not None else delegation.invited_email
    messages.success(request, _("%(who)s can no longer act for you. This took effect at once.") % {"who": who})
    return redirect("record_caregivers", record_uuid=record.uuid)


@login_required
@require_http_methods(["GET", "POST"])
def delegation_accept(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    delegation = services.invitation_get(token=token)
    refusal = invitation_refusal(delegation, request.user)
    if refusal is None and request.method == "POST":
        try:
            delegation = services.delegation_accept(user=request.user, token=token)
        except services.DelegationRefused as error:
            refusal = error.message
        else:
            messages.success(
                request,
                _("You now act for %(name)s, within what they allow.") % {"name": delegation.record},
            )
            return redirect("record_detail", record_uuid=delegation.record.uuid)
    if refusal is not None or delegation is None:  # no invitation has a refusal: this only narrows
        return render(request, "delegations/accept.html", {"refusal": refusal}, status=400)
    if delegation.accepted_at:  # this person accepted it already: the record is theirs to help with
        return redirect("record_detail", record_uuid=delegation.record.uuid)
    return render(request, "delegations/accept.html", {"delegation": delegation})
