"""The person's privacy pages: settings with their explanations and history, professionals, access codes."""

from __future__ import annotations

from io import BytesIO

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.access.policy import Action
from apps.access.professional import services as access_services
from apps.accounts.http import AuthenticatedHttpRequest
from apps.accounts.models import Role, User
from apps.consents.explanations import EXPLANATIONS
from apps.consents.models import SettingKey
from apps.consents.privacy import services as privacy
from apps.consents.services import privacy_state, setting_history
from apps.records import selectors
from apps.records.selectors import documents_visible_to

CODE_DURATIONS = [
    (1, gettext_lazy("1 hour")),
    (4, gettext_lazy("4 hours")),
    (24, gettext_lazy("1 day")),
    (72, gettext_lazy("3 days")),
    (168, gettext_lazy("7 days")),
]


class AccessCodeCreateForm(forms.Form):
    hours = forms.TypedChoiceField(label=gettext_lazy("Valid for"), choices=CODE_DURATIONS, coerce=int, initial=4)


def _record(request: AuthenticatedHttpRequest, record_uuid, action=Action.SETTINGS_READ):
    record, _decision = selectors.record_get_for(actor=request.user, record_uuid=record_uuid, action=action)
    return record


class ProfessionalChoiceForm(forms.Form):
    """Which professional: an id from the search results, checked before any query uses it."""

    professional = forms.UUIDField(required=False)
    blocked = forms.ChoiceField(choices=[("0", "0"), ("1", "1")], required=False)

    def clean_professional(self) -> User | None:
        value = self.cleaned_data["professional"]
        if value is None:
            return None
        professional = User.objects.filter(uuid=value, role=Role.PROFESSIONAL).first()
        if professional is None:
            raise forms.ValidationError(_("No health professional with this id."))
        return professional


def _refused_choice(request: AuthenticatedHttpRequest, record_uuid, form: ProfessionalChoiceForm) -> HttpResponse:
    """Back to the privacy page, with what was wrong, as a 400: nothing was changed."""
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))  # ErrorList yields each message as text
    response = privacy_settings(request, record_uuid)
    response.status_code = 400
    return response


@login_required
def privacy_settings(request: AuthenticatedHttpRequest, record_uuid) -> HttpResponse:
    record = _record(request, record_uuid)
    state = privacy_state(record=record)
    toggles = [
        (key, label, getattr(state, key), EXPLANATIONS[SettingKey(key)])
        for key, label in SettingKey.choices
        if key in privacy.TOGGLES
    ]
    people = {str(u.uuid): u for u in User.objects.filter(uuid__in=[*state.blocked, state.designated_doctor or None])}
    query = request.GET.get("q", "").strip()
    return render(
        request,
        "consents/privacy.html",
        {
            "record": record,
            "toggles": toggles,
            "designated": people.get(state.designated_doctor or ""),
            "blocked": [people[u] for u in state.blocked if u in people],
            # Listing them is its own (journaled) decision: managing settings is not reading documents.
            "masked": documents_visible_to(actor=request.user, record=record).filter(masked=True).order_by("title"),
            "history": setting_history(actor=request.user, record=record),
            "query": query,
            "found": access_services.professionals_search(query=query) if query else [],
            "explain_designated": EXPLANATIONS[SettingKey.DESIGNATED_DOCTOR],
            "explain_blocked": EXPLANATIONS[SettingKey.BLOCKED_PROFESSIONAL],
            "explain_masked": EXPLANATIONS[SettingKey.MASKED_DOCUMENT],
        },
    )


@login_required
@require_POST
def privacy_toggle(request: AuthenticatedHttpRequest, record_uuid) -> HttpResponse:
    record = _record(request, record_uuid, action=Action.SETTINGS_EDIT)
    key = request.POST.get("key", "")
    if key not in privacy.TOGGLES:
        raise Http404
    privacy.toggle_set(actor=request.user, record=record, key=key, on=request.POST.get("on") == "1")
    messages.success(request, _("Your choice is saved."))
    return redirect("privacy_settings", record_uuid=record.uuid)


@login_required
@require_POST
def privacy_block(request: AuthenticatedHttpRequest, record_uuid) -> HttpResponse:
    record = _record(request, record_uuid, action=Action.SETTINGS_EDIT)
    form = ProfessionalChoiceForm(request.POST)
    if form.is_valid() and form.cleaned_data["professional"] is None:
        form.add_error("professional", _("Choose a professional from the search results."))
    if not form.is_valid():
        return _refused_choice(request, record_uuid, form)
    professional = form.cleaned_data["professional"]
    blocked = form.cleaned_data["blocked"] == "1"
    privacy.professional_block(actor=request.user, record=record, professional=professional, blocked=blocked)
    messages.success(
        request,
        (_("%(name)s can no longer open your record.") if blocked else _("%(name)s is no longer blocked."))
        % {"name": professional},
    )
    return redirect("privacy_settings", record_uuid=record.uuid)


@login_required
@require_POST
def privacy_designate(request: AuthenticatedHttpRequest, record_uuid) -> HttpResponse:
    record = _record(request, record_uuid, action=Action.SETTINGS_EDIT)
    form = ProfessionalChoiceForm(request.POST)
    if not form.is_valid():
        return _refused_choice(request, record_uuid, form)
    professional = form.cleaned_data["professional"]
    privacy.designated_doctor_set(actor=request.user, record=record, professional=professional)
    messages.success(
        request, _("Your designated doctor is saved.") if professional else _("You have no designated doctor now.")
    )
    return redirect("privacy_settings", record_uuid=record.uuid)


def _qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@login_required
@require_http_methods(["GET", "POST"])
def access_codes(request: AuthenticatedHttpRequest, record_uuid) -> HttpResponse:
    record = _record(request, record_uuid)
    form = AccessCodeCreateForm(request.POST or None)
    fresh = None
    if request.method == "POST" and form.is_valid():
        code, plain = access_services.access_code_create(
            actor=request.user, record=record, hours=form.cleaned_data["hours"]
        )
        fresh = {"code": plain, "expires_at": code.expires_at, "qr": _qr_svg(f"{settings.SITE_URL}/pro/?code={plain}")}
    return render(
        request,
        "consents/access_codes.html",
        {
            "record": record,
            "form": form,
            "fresh": fresh,
            "codes": [
                (code, _code_state(code))
                for code in access_services.access_codes_for(actor=request.user, record=record)
            ],
        },
    )


def _code_state(code) -> str:
    if code.revoked_at:
        return str(_("cancelled"))
    if code.expires_at <= timezone.now():
        return str(_("ended"))
    return str(_("valid until %(date)s")) % {
        "date": formats.date_format(timezone.localtime(code.expires_at), "DATETIME_FORMAT")
    }


@login_required
@require_POST
def access_code_revoke(request: AuthenticatedHttpRequest, code_uuid) -> HttpResponse:
    code = access_services.access_code_revoke(actor=request.user, code_uuid=code_uuid)
    messages.success(request, _("The code …%(hint)s no longer works.") % {"hint": code.hint})
    return redirect("access_codes", record_uuid=code.record.uuid)
