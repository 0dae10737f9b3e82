from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.notifications import selectors, services
from apps.notifications.models import NotificationEvent


@login_required
def notification_centre(request: HttpRequest) -> HttpResponse:
    items = selectors.notifications_for(user=request.user, before_uuid=request.GET.get("before", ""))
    texts = {value: label for value, label in NotificationEvent.choices}
    rows = [(item, texts.get(item.event, item.event)) for item in items]
    return render(
        request,
        "notifications/centre.html",
        {"rows": rows, "next": items[-1].uuid if len(items) == selectors.PAGE_SIZE else ""},
    )


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    uuids = request.POST.getlist("notification") or None
    services.notifications_mark_read(user=request.user, uuids=uuids)
    return redirect("notification_centre")
