"""The API's answer to every exception a request can raise: one 404 body, and a 400 for bad input.

A refusal of record data looks exactly like "nothing here": missing, forbidden, hidden and
deleted all get the same status and the same body, byte for byte, so a prober learns
nothing. The decision's reason is journaled by the policy and shown to the person on their
own pages; it never reaches the requester.

Bad input never reaches a 500: a body too deeply nested for the JSON decoder, a Django
validation error, a number too large to convert — each becomes a 400 that says what to fix.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status
from rest_framework.fields import empty
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.access.refusals import Refused

logger = logging.getLogger(__name__)

NOT_FOUND = exceptions.NotFound.default_detail


def not_found_body() -> dict[str, str]:
    """The one body of every 404 of the API (translated into the request's language)."""
    return {"detail": str(NOT_FOUND)}


def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Under /api/v1/, a path that matches no operation: the same 404 as refused record data."""
    return JsonResponse(not_found_body(), status=404)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: DRF's own handling, after mapping what it leaves to a 500.

    A ``Refused`` (any app's refusal the person can act on) is the one 400 with its reason;
    a ``RecordUnavailable`` is an Http404, so the one 404 below.
    """
    if isinstance(exc, Refused):
        return Response(exc.body(), status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(_as_api_exception(exc), context)
    if response is not None and response.status_code == 404:
        response.data = not_found_body()
    return response


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, Http404 | exceptions.NotFound):
        # Never the Http404's message: RecordUnavailable carries the policy's reason.
        return exceptions.NotFound()
    if isinstance(exc, RecursionError):
        # json.load raises it (not a ValueError) for a body nested thousands of levels deep.
        return exceptions.ParseError(_("The request is nested too deeply to be read."))
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return exceptions.ValidationError(detail)
    if isinstance(exc, ValueError | OverflowError):
        # A value that cannot be converted (a number too large, a malformed id) that a view
        # did not check: still the client's input, so a 400 rather than a 500. Logged, so
        # the view can be given a proper field error.
        logger.warning("Unchecked bad input reached the API exception handler", exc_info=exc)
        return exceptions.ValidationError({"detail": [_("A value in this request is not valid.")]})
    return exc


class PresentBooleanField(serializers.BooleanField):
    """A boolean that is set only when sent.

    DRF's BooleanField reads a form-encoded body's missing checkbox as False: a PATCH that
    sends one field would silently switch the others off. This one leaves them out.
    """

    default_empty_html = empty
