"""Writing to and verifying the access journal."""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from apps.access.models import AccessEvent, JournalHead

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class RequestOrigin:
    ip: str = ""
    user_agent: str = ""


# Set per request by AccessContextMiddleware, so every decision records where
# it came from without each caller passing the request along.
_NO_ORIGIN = RequestOrigin()
current_origin: contextvars.ContextVar[RequestOrigin] = contextvars.ContextVar(
    "current_origin",
    default=_NO_ORIGIN,
)


def _lock_head() -> JournalHead:
    try:
        head, _ = JournalHead.objects.select_for_update().get_or_create(pk=1)
    except IntegrityError:  # two first writers raced to create the head
        head = JournalHead.objects.select_for_update().get(pk=1)
    return head


def journal_append(events: Iterable[AccessEvent]) -> list[AccessEvent]:
    """Chain and store unsaved events, in order, in one transaction."""
    events = list(events)
    if not events:
        return events
    origin = current_origin.get()
    with transaction.atomic():
        head = _lock_head()
        for event in events:
            head.seq += 1
            event.seq = head.seq
            event.ip = event.ip or origin.ip
            event.user_agent = (event.user_agent or origin.user_agent)[:300]
            event.prev_hash = head.last_hash
            event.hash = event.compute_hash()
            head.last_hash = event.hash
        AccessEvent.objects.bulk_create(events)
        JournalHead.objects.filter(pk=head.pk).update(seq=head.seq, last_hash=head.last_hash)
    return events


@dataclass(frozen=True)
class ChainReport:
    verified: int
    broken_at: AccessEvent | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None and not self.problem


def _in_order(batch_size: int) -> Iterator[AccessEvent]:
    return AccessEvent.objects.order_by("seq").iterator(chunk_size=batch_size)


def journal_verify(batch_size: int = 2000) -> ChainReport:
    """Recompute every hash from the start; report the first row that does not hold."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for event in _in_order(batch_size):
        if event.seq != expected_seq:
            return ChainReport(count, event, f"entry #{expected_seq} is missing (found #{event.seq} next)")
        if event.prev_hash != expected_prev:
            return ChainReport(count, event, "its link to the previous entry does not match")
        if event.compute_hash() != event.hash:
            return ChainReport(count, event, "its content does not match its hash (altered)")
        expected_prev = event.hash
        expected_seq += 1
        count += 1
    head = JournalHead.objects.filter(pk=1).first()
    if head is not None and head.seq != count:
        return ChainReport(count, None, f"the journal should hold {head.seq} entries but holds {count}")
    if head is not None and count and head.last_hash != expected_prev:
        return ChainReport(count, None, "the last entry is not the recorded tip of the chain")
    return ChainReport(count)
