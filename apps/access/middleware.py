from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse

from apps.access.journal import RequestOrigin, current_origin


def client_ip(request: HttpRequest) -> str:
    """The client's address as allauth's rate limits see it: through TRUSTED_PROXY_COUNT proxies'
    X-Forwarded-For, else the connection's address (a header nobody trusted is never believed)."""
    from allauth.account.adapter import get_adapter

    try:
        return get_adapter(request).get_client_ip(request)[:45]
    except (PermissionDenied, ImproperlyConfigured):  # no address, or a request that bypassed the proxy
        return request.META.get("REMOTE_ADDR", "")[:45]


class AccessContextMiddleware:
    """Settles the client's address once, for every reader, and remembers it for the journal.

    The one client-address rule: the address is read as allauth reads it (TRUSTED_PROXY_COUNT),
    then written into REMOTE_ADDR and X-Forwarded-For is dropped. Every later reader (allauth's
    limits, DRF's throttles, logs) then sees that same address, whatever its own way of reading
    the header: a spoofed, short or malformed X-Forwarded-For cannot give one of them another.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        ip = client_ip(request)
        if ip:
            request.META["REMOTE_ADDR"] = ip
        request.META.pop("HTTP_X_FORWARDED_FOR", None)
        request.__dict__.pop("headers", None)  # request.headers is cached from META: read it afresh
        token = current_origin.set(
            RequestOrigin(
                ip=ip,
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            )
        )
        try:
            return self.get_response(request)
        finally:
            current_origin.reset(token)
