"""The API's one shape for a refusal the person can act on: 400 with the reason in plain words."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response


def refused_schema(name: str) -> OpenApiResponse:
    """The OpenAPI description of a refusal; ``name`` names its component in the schema."""
    return OpenApiResponse(
        # Not required: a malformed body gets DRF's field errors ({"token": [...]}) instead.
        response=inline_serializer(name, {"detail": serializers.CharField(required=False)}),
        description="Refused, with the reason in plain words in `detail` (or an error per field); nothing was written",
    )


def refused(message: str) -> Response:
    return Response({"detail": message}, status=status.HTTP_400_BAD_REQUEST)
