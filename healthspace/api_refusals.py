"""The API's one shape for a refusal the person can act on: 400 with the reason in plain words.

Every app raises its refusal (a subclass of apps.access.refusals.Refused); the API's exception
handler (healthspace.api_errors) answers it. This module only describes that answer in the schema.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


def refused_schema(name: str) -> OpenApiResponse:
    """The OpenAPI description of a refusal; ``name`` names its component in the schema."""
    return OpenApiResponse(
        # Not required: a malformed body gets DRF's field errors ({"token": [...]}) instead.
        response=inline_serializer(name, {"detail": serializers.CharField(required=False)}),
        description="Refused, with the reason in plain words in `detail` (or an error per field); nothing was written",
    )
