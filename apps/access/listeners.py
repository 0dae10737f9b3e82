"""Who hears of a decision once it is journaled: the listeners in settings.ACCESS_DECISION_LISTENERS.

The policy decides and journals; it sends nothing. What follows a decision (telling the person
that a helper acted, that a professional opened the record, that the glass was broken) is a
listener's job, named in settings like the bases, so the policy imports no app above it.

A listener has two methods: ``wants(decided)``, answered from the decision alone (no query: it
runs on every decision), and ``heard(decided)``, which acts. A failing listener is logged and
never changes the decision. A listener that writes does so in its own ``transaction.atomic()``
(``notify_followers`` does), so that a failed query of its own cannot doom the caller's
transaction; the dispatcher opens no savepoint itself (it would cost two queries a decision).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from apps.access.actors import Actor
    from apps.access.models import AccessEvent
    from apps.access.policy import Decision, Resource
    from apps.records.models import Record

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decided:
    """One journaled decision, as a listener receives it. ``record`` is None for a step journaled
    without the record at hand (a code typed in): ``record_uuid`` still names it when known."""

    actor: Actor | None
    record: Record | None
    record_uuid: UUID | None
    action: str
    resource: Resource | None
    decision: Decision
    event: AccessEvent


class DecisionListener(Protocol):
    def wants(self, decided: Decided) -> bool:
        """Whether ``heard`` has anything to do, from the decision alone (no query)."""

    def heard(self, decided: Decided) -> None:
        """Act on the decision (after it is journaled, in the caller's transaction)."""


@cache
def decision_listeners() -> tuple[DecisionListener, ...]:
    return tuple(import_string(path)() for path in getattr(settings, "ACCESS_DECISION_LISTENERS", ()))


def tell_listeners(decided: Sequence[Decided]) -> None:
    """Hand each decision to the listeners that want it. Failures are logged, never raised."""
    for listener in decision_listeners():
        for one in decided:
            try:
                if listener.wants(one):
                    listener.heard(one)
            except Exception:
                logger.exception(
                    "decision listener %s failed on %s (%s); the decision stands",
                    type(listener).__name__,
                    one.action,
                    one.event.uuid,
                )
