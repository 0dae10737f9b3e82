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
    """Remembers where the request comes from, for the journal."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_origin.set(
            RequestOrigin(
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            )
        )
        try:
            return self.get_response(request)
        finally:
            current_origin.reset(token)
