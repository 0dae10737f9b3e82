"""Web pages of the medical profile: thin, every rule lives in apps.clinical.profile."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.access.policy import Action, Decision, decide
from apps.access.refusals import RecordUnavailable, refusal_shown
from apps.accounts.http import AuthenticatedHttpRequest
from apps.clinical import profile
from apps.clinical.forms import DECLARE_FORMS, RectificationForm, declare_form, edit_form
from apps.records.selectors import record_get_for


def _profile_url(record_uuid: UUID, anchor: str = "") -> str:
    url = reverse("medical_profile", args=[record_uuid])
    return f"{url}#{anchor}" if anchor else url


def _render_profile(request: AuthenticatedHttpRequest, record_uuid, *, bound=None, status: int = 200) -> HttpResponse:
    medical = profile.profile_get(actor=request.user, record_uuid=record_uuid)
    # What the page offers (not an access: nothing is read or changed): no journal entry.
    can_edit = decide(actor=request.user, record=medical.record, action=Action.PROFILE_EDIT).allowed
    forms = []
    if can_edit:
        forms = [bound if bound is not None and bound.kind == kind else declare_form(kind) for kind in DECLARE_FORMS]
    return render(
        request,
        "clinical/profile.html",
        {
            "record": medical.record,
            "profile": medical,
            "can_edit": can_edit,
            "declare_forms": forms,
            "rectification_form": RectificationForm(),
        },
        status=status,
    )


@login_required
def medical_profile(request: AuthenticatedHttpRequest, record_uuid: UUID) -> HttpResponse:
    return _render_profile(request, record_uuid)


@login_required
@require_POST
def fact_declare(request: AuthenticatedHttpRequest, record_uuid: UUID, kind: str) -> HttpResponse:
    if kind not in DECLARE_FORMS:
        raise Http404
    record, _decision = record_get_for(actor=request.user, record_uuid=record_uuid, action=Action.PROFILE_EDIT)
    form = declare_form(kind, request.POST)
    if form.is_valid():
        with refusal_shown(request, form):
            profile.fact_declare(actor=request.user, record=record, kind=kind, **_declared(form.cleaned_data))
            messages.success(request, _("Added to the medical profile."))
            return redirect(_profile_url(record.uuid, kind))
    return _render_profile(request, record.uuid, bound=form, status=400)


def _declared(data: dict) -> dict:
    data = dict(data)
    data.setdefault("display", "")
    return data


@login_required
@require_http_methods(["GET", "POST"])
def fact_edit(request: AuthenticatedHttpRequest, fact_uuid: UUID) -> HttpResponse:
    item = profile.fact_get_for(actor=request.user, fact_uuid=fact_uuid)
    fact = item.fact
    if not decide(actor=request.user, record=fact.record, action=Action.PROFILE_EDIT).allowed:
        raise RecordUnavailable(Decision(allowed=False, basis="none", reason_code="professional_read_only"))
    if not item.declared:
        messages.error(request, profile.ImportedFactLocked().message)
        return redirect(_profile_url(fact.record.uuid, str(fact.uuid)))
    form = edit_form(fact, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with refusal_shown(request, form):
            profile.fact_update(actor=request.user, fact_uuid=fact.uuid, **form.cleaned_data)
            messages.success(request, _("The change was saved."))
            return redirect(_profile_url(fact.record.uuid, fact.kind))
    status = 400 if request.method == "POST" else 200
    return render(
        request, "clinical/fact_edit.html", {"fact": fact, "record": fact.record, "form": form}, status=status
    )


@login_required
@require_POST
def fact_delete(request: AuthenticatedHttpRequest, fact_uuid: UUID) -> HttpResponse:
    with refusal_shown(request) as caught:
        record_uuid = profile.fact_delete(actor=request.user, fact_uuid=fact_uuid)
        messages.success(request, _("Deleted from the medical profile."))
        return redirect(_profile_url(record_uuid))
    return redirect(_profile_url(caught.refusal.record_uuid, str(fact_uuid)))


@login_required
@require_POST
def fact_wrong(request: AuthenticatedHttpRequest, fact_uuid: UUID) -> HttpResponse:
    with refusal_shown(request) as caught:
        rectification = profile.rectification_request(
            actor=request.user, fact_uuid=fact_uuid, reason=request.POST.get("reason", "")
        )
        messages.success(request, _("Your note was saved. It is shown with this information to professionals."))
        return redirect(_profile_url(rectification.fact.record.uuid, str(fact_uuid)))
    return redirect(_profile_url(caught.refusal.record_uuid, str(fact_uuid)))


@login_required
@require_POST
def rectification_withdraw(request: AuthenticatedHttpRequest, rectification_uuid: UUID) -> HttpResponse:
    rectification = profile.rectification_withdraw(actor=request.user, rectification_uuid=rectification_uuid)
    messages.success(request, _("Your note was withdrawn."))
    fact = rectification.fact
    return redirect(_profile_url(fact.record.uuid, str(fact.uuid)))
