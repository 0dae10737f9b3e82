"""One refusal family, mapped once for the API (healthspace.api_errors) and once for web pages.

Two kinds, and only two:
- ``RecordUnavailable``: record data the actor may not reach, or that does not exist. A 404
  with the one body, never the reason (the reason is in the journal and the person's history).
- ``Refused``: a request refused for a reason the person can act on (a wrong code, an expired
  invitation, a value out of range). A 400 with the reason in plain words.

Each app keeps its own name for its refusals (DelegationRefused, MandateRefused...) as
subclasses of ``Refused``, so callers may still catch the narrow one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import Http404

if TYPE_CHECKING:
    from django.forms import BaseForm
    from django.http import HttpRequest

    from apps.access.policy import Decision


class Refusal(Exception):
    """The base of every refusal a request can meet."""


class RecordUnavailable(Refusal, Http404):
    """Missing and forbidden look the same to the caller (and to a prober)."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


class Refused(Refusal):
    """Refused with a reason the person can act on; ``field`` names the input it is about, if one."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def body(self) -> dict[str, Any]:
        """The API's 400 body: the reason in ``detail``, and under the field it is about."""
        body: dict[str, Any] = {"detail": str(self.message)}
        if self.field:
            body[self.field] = [str(self.message)]
        return body


@dataclass
class Caught:
    """What ``refusal_shown`` caught, for a view that goes somewhere else after a refusal."""

    refusal: Refused | None = None


@contextmanager
def refusal_shown(request: HttpRequest, form: BaseForm | None = None) -> Iterator[Caught]:
    """The web pages' one way to show a ``Refused``: on the form (on its field when the form has
    it), else as a message at the top of the next page. The view goes on after the block, so a
    ``return`` inside the block is the success path and the code after it the refused one."""
    caught = Caught()
    try:
        yield caught
    except Refused as refusal:
        caught.refusal = refusal
        if form is not None:
            form.add_error(refusal.field if refusal.field in form.fields else None, str(refusal.message))
        else:
            messages.error(request, str(refusal.message))
