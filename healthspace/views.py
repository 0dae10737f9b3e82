"""Service-level pages: health check, web app manifest, CSRF failure, overload."""

from __future__ import annotations

import logging
import sys
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process"
    from healthspace.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "reachable"


def _check_storage() -> None:
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}", ContentFile(b"ok"))
    default_storage.delete(name)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, dict[str, object]] = {}
    for name, check in (("database", _check_database), ("broker", _check_broker), ("storage", _check_storage)):
        try:
            detail = check()
        except Exception as error:  # noqa: BLE001 - any failure means "down"
            logger.warning("healthz: %s is down: %r", name, error)
            checks[name] = {"ok": False, "error": error.__class__.__name__}
        else:
            checks[name] = {"ok": True, **({"mode": detail} if detail else {})}
    down = [name for name, state in checks.items() if not state["ok"]]
    return JsonResponse(
        {"status": "down" if down else "ok", "down": down, "checks": checks},
        status=503 if down else 200,
    )


def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "name": "healthspace",
        "short_name": "healthspace",
        "description": _("Your personal health space"),
        "lang": request.LANGUAGE_CODE,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1d4ed8",
        "icons": [
            {"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "errors/csrf.html", status=403)


# How long a client should wait before trying again when the service is overloaded.
RETRY_AFTER_SECONDS = 5


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: overload (no database connection free within DATABASE_POOL_TIMEOUT) is a 503
    with Retry-After, "busy, try again", and nothing was done; any other error is Django's 500."""
    from django.views.defaults import server_error as django_server_error
    from psycopg_pool import PoolTimeout

    error = sys.exc_info()[1]
    if isinstance(error, PoolTimeout) or isinstance(getattr(error, "__cause__", None), PoolTimeout):
        response = HttpResponse(
            _("The service is very busy. Please try again in a few seconds."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return django_server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a request Django cannot read (too many fields, a forged host...). An API
    client gets JSON like every other API error, a person Django's page."""
    from django.views.defaults import bad_request as django_bad_request

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("The request could not be read.")}, status=400)
    return django_bad_request(request, exception)
