"""Web pages of consents: how the data is used, personal directives."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse


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
