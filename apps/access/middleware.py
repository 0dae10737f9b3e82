from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.access.journal import RequestOrigin, current_origin


class AccessContextMiddleware:
    """Remembers where the request comes from, for the journal."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_origin.set(
            RequestOrigin(
                ip=request.META.get("REMOTE_ADDR", "")[:45],
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            )
        )
        try:
            return self.get_response(request)
        finally:
            current_origin.reset(token)
