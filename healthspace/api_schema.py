"""The OpenAPI description tells every answer an operation can give, refusals included.

Every operation can refuse: bad input (400), no or expired credentials (401), a second
factor or role missing (403), record data that is not there for this reader (404, the one
body of healthspace.api_errors), a body in a format the operation does not read (415)
and, where a view is throttled, too many tries (429). A client generated from the schema
then knows each of them, and schemathesis holds the API to it.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

_DETAIL = inline_serializer("Detail", {"detail": serializers.CharField()})
# A 400 says what to fix: {"detail": ...} or one list of messages per field.
_BAD_INPUT = OpenApiResponse(
    response={"type": "object", "additionalProperties": True},
    description="Bad input: `detail`, or a list of messages per field; nothing was written",
)
REFUSALS = {
    "400": _BAD_INPUT,
    "401": OpenApiResponse(_DETAIL, description="Not signed in, or the token expired"),
    "403": OpenApiResponse(_DETAIL, description="This account may not use this operation (role, second factor)"),
    "404": OpenApiResponse(_DETAIL, description="Nothing here for you: missing and forbidden look the same"),
}
UNSUPPORTED = OpenApiResponse(_DETAIL, description="The body is not in a format this operation reads")
TOO_MANY = OpenApiResponse(_DETAIL, description="Too many tries: wait, then try again")


class ApiSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        extra = dict(REFUSALS)
        if self.method in ("POST", "PUT", "PATCH"):
            extra["415"] = UNSUPPORTED
        if self.view.get_throttles() or getattr(self.view, "rate_limited", False):
            extra["429"] = TOO_MANY
        for code, response in extra.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses
