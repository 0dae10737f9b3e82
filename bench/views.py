"""The ceiling every endpoint is compared with: what the framework itself costs.

Both views go through the whole production middleware (session, user, second factor,
CSP...) and ask for a logged-in person, like every page of a record.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse

from apps.records.models import Record


@login_required
def ceiling(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


@login_required
def ceiling_query(request: HttpRequest) -> JsonResponse:
    # One query on a unique index (the person's own record): the least a page about a record does.
    record = Record.objects.filter(owner_id=request.user.pk).values_list("uuid", flat=True).first()
    return JsonResponse({"ok": True, "record": str(record) if record else None})
