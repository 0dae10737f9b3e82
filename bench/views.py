"""The ceiling every endpoint is compared with: what the framework itself costs.

Both views go through the whole production middleware (session, user, second factor,
CSP...) and ask for a logged-in person, like every page of a record.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse

from apps.accounts.http import AuthenticatedHttpRequest
from apps.accounts.models import User


@login_required
def ceiling(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


@login_required
def ceiling_query(request: AuthenticatedHttpRequest) -> JsonResponse:
    # One query on a primary key, the least a page does beyond the middleware. The account's own
    # row, not a record: no record data is read here outside the access policy and its journal.
    uuid = User.objects.filter(pk=request.user.pk).values_list("uuid", flat=True).first()
    return JsonResponse({"ok": True, "account": str(uuid)})
