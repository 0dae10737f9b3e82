"""Writing to and verifying the access journal.

A denial must outlive the transaction it was decided in: a service that refuses inside
``transaction.atomic()`` and raises rolls its own writes back, and the journal entry with
them. So a denial written inside an atomic block is also held by the current unit of work
(``denials_kept``: a request, a Celery task, a command); when the unit ends, the held
denials that are no longer in the table (a rollback took them) are written again, at the
end of the chain. Works the same on SQLite and PostgreSQL: no second connection.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse

from apps.access.models import AccessEvent, JournalHead, Outcome

logger = logging.getLogger(__name__)

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
    """Chain and store unsaved events, in order, in one transaction.

    Denials written inside someone's atomic block are held until it commits (see above)."""
    events = list(events)
    if not events:
        return events
    _write(events)
    _hold_denials(events)
    return events


def _write(events: list[AccessEvent]) -> None:
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


# --- Denials survive rollbacks ---------------------------------------------------------

# The entry's content, without its place in the chain (given again when it is rewritten).
_CHAIN_FIELDS = frozenset({"id", "seq", "prev_hash", "hash"})


@dataclass
class _Scope:
    held: list[AccessEvent] = field(default_factory=list)


def _scopes() -> list[_Scope]:
    # Per database connection (one per thread), like the transaction the denials live in.
    connection = transaction.get_connection()
    scopes = getattr(connection, "_healthspace_denial_scopes", None)
    if scopes is None:
        scopes = connection._healthspace_denial_scopes = []
    return scopes


def _copy(event: AccessEvent) -> AccessEvent:
    values = {f.attname: getattr(event, f.attname) for f in AccessEvent._meta.concrete_fields}
    return AccessEvent(**{name: value for name, value in values.items() if name not in _CHAIN_FIELDS})


def _hold_denials(events: list[AccessEvent]) -> None:
    denials = [event for event in events if event.outcome == Outcome.DENIED]
    if not denials or not transaction.get_connection().in_atomic_block:
        return  # written in autocommit: already durable
    scopes = _scopes()
    if scopes:  # else no unit of work to rewrite them (see denials_kept)
        scopes[-1].held.extend(_copy(event) for event in denials)


@contextmanager
def denials_kept() -> Iterator[None]:
    """A unit of work (request, task, command) after which no denial is lost to a rollback."""
    scopes = _scopes()
    scope = _Scope()
    scopes.append(scope)
    try:
        yield
    finally:
        scopes.remove(scope)
        if scope.held:
            _rewrite_lost(scope.held, enclosing=scopes[-1] if scopes else None)


def _rewrite_lost(held: list[AccessEvent], *, enclosing: _Scope | None) -> None:
    """Write again the held denials that a rollback took away (an entry keeps its uuid when rewritten)."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and enclosing is not None:
        enclosing.held.extend(held)  # still inside the enclosing unit's transaction: it decides
        return
    if connection.needs_rollback:
        return  # inside a transaction already doomed, that nobody here owns: it shares its fate
    try:
        present = set(AccessEvent.objects.filter(uuid__in=[e.uuid for e in held]).values_list("uuid", flat=True))
        lost = [_copy(event) for event in held if event.uuid not in present]
        if lost:
            # Outside any transaction this is final; inside one this unit did not open (a test's),
            # the rewritten entries share its fate like every other entry written in it.
            _write(lost)
    except Exception:  # never hide the error that caused the rollback behind this one
        logger.exception("could not rewrite %d denied access events after a rollback", len(held))


class KeepDenialsMiddleware:
    """Each request is a unit of work for ``denials_kept`` (also when the view raised)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with denials_kept():
            return self.get_response(request)


_task_scopes: dict[str, AbstractContextManager[None]] = {}


def task_started(task_id: str | None = None, **_kwargs) -> None:
    """Celery's task_prerun: each task is a unit of work for ``denials_kept``."""
    scope = denials_kept()
    scope.__enter__()
    _task_scopes[task_id or ""] = scope


def task_finished(task_id: str | None = None, **_kwargs) -> None:
    """Celery's task_postrun (sent after failures too)."""
    scope = _task_scopes.pop(task_id or "", None)
    if scope is not None:
        scope.__exit__(None, None, None)


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
