from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.http import AuthenticatedHttpRequest
from apps.notifications import selectors, services
from apps.notifications.models import EmailMode, NotificationEvent

# Where the person acts on what they were told: a support agent's act links to the mandates, to stop one.
MANDATE_EVENTS = frozenset(
    {
        NotificationEvent.MANDATE_CONFIRMED,
        NotificationEvent.MANDATE_ENDED,
        NotificationEvent.ACCOUNT_LETTER_PRINTED,
        NotificationEvent.ACCOUNT_LETTER_USED,
        NotificationEvent.ACCOUNT_LETTER_CANCELLED,
        NotificationEvent.SECOND_FACTOR_RESET,
    }
)


HISTORY_EVENTS = frozenset({NotificationEvent.CAREGIVER_ACTED, NotificationEvent.MANDATE_ACTED})


def _link(item) -> str:
    if item.document_uuid:
        return reverse("document_detail", args=[item.document_uuid])
    if item.event in HISTORY_EVENTS and item.record_uuid:
        return reverse("access_history", args=[item.record_uuid])
    if item.event in MANDATE_EVENTS and item.record_uuid:
        return reverse("record_mandates", args=[item.record_uuid])
    return ""


class PageForm(forms.Form):
    before = forms.UUIDField(required=False)


@login_required
def notification_centre(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = PageForm(request.GET)
    if not page.is_valid():
        # A hand-made "before" is not a cursor: say so, and show the first page.
        messages.error(request, _("This page link is not valid; here are your latest notifications."))
    before = page.cleaned_data.get("before") if page.is_valid() else None
    items = selectors.notifications_for(user=request.user, before_uuid=str(before) if before else "")
    texts = {value: label for value, label in NotificationEvent.choices}
    rows = [(item, texts.get(item.event, item.event), _link(item)) for item in items]
    return render(
        request,
        "notifications/centre.html",
        {"rows": rows, "next": items[-1].uuid if len(items) == selectors.PAGE_SIZE else ""},
        status=200 if page.is_valid() else 400,
    )


@login_required
@require_POST
def mark_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        uuids = [UUID(value) for value in request.POST.getlist("notification")] or None
    except ValueError:
        return HttpResponseBadRequest(_("This notification id is not valid."))
    services.notifications_mark_read(user=request.user, uuids=uuids)
    return redirect("notification_centre")


class PreferenceForm(forms.Form):
    in_app = forms.BooleanField(label=gettext_lazy("Show in my notification centre"), required=False)
    email = forms.ChoiceField(label=gettext_lazy("Send me an e-mail"), choices=EmailMode.choices)


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = services.preferences_for(user=request.user)
    forms_by_event = [
        (
            pref.event,
            pref.get_event_display(),
            PreferenceForm(
                request.POST or None, prefix=pref.event, initial={"in_app": pref.in_app, "email": pref.email}
            ),
        )
        for pref in current
    ]
    if request.method == "POST":
        if all(form.is_valid() for _event, _label, form in forms_by_event):
            for event, _label, form in forms_by_event:
                services.preference_set(
                    user=request.user, event=event, in_app=form.cleaned_data["in_app"], email=form.cleaned_data["email"]
                )
            messages.success(request, _("Your choices are saved."))
            return redirect("notification_preferences")
        messages.error(request, _("Your choices were not saved: check the form."))
    return render(request, "notifications/preferences.html", {"forms": forms_by_event})
