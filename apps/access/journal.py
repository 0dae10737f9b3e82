"""Writing to the access journal: one hash chain per record, each entry with a MAC.

Each entry goes to its record's chain (``chain_for``) with its number there and the link to
the chain's previous entry; only that chain's head row is locked, so appends for different
records never wait on each other. Each entry carries an HMAC of its hash with the active
journal key (journal_keys.py), a key the database never holds. Checking is in
verification.py (a command and a task, never a request), against signed checkpoints
(checkpoints.py).

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
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse

from apps.access.journal_keys import active_key_id, entry_mac
from apps.access.models import AccessEvent, JournalChainHead, Outcome, chain_for

if TYPE_CHECKING:
    from apps.access.verification import JournalReport

logger = logging.getLogger(__name__)


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


def _lock_heads(chains: Iterable[str]) -> dict[str, JournalChainHead]:
    """Lock the heads of the given chains, always in the same (sorted) order, so that two
    batches touching the same records never wait on each other in a cycle.

    A fixed number of queries whatever the number of chains (a list of 300 records is one batch)."""
    keys = sorted(set(chains))

    def lock(wanted: list[str]) -> dict[str, JournalChainHead]:
        locked = JournalChainHead.objects.select_for_update().filter(chain__in=wanted).order_by("chain")
        return {head.chain: head for head in locked}

    heads = lock(keys)
    missing = [key for key in keys if key not in heads]
    if missing:
        # Two first writers of a chain may race: the loser's row is ignored, then both lock the one row.
        JournalChainHead.objects.bulk_create([JournalChainHead(chain=key) for key in missing], ignore_conflicts=True)
        heads.update(lock(missing))
    return heads


def _display_seqs(count: int) -> list[int]:
    """Global numbers for display order, taken without a lock on PostgreSQL (a sequence).

    SQLite has one writer at a time anyway: the chain heads were written just before, so this
    transaction already holds the database's write lock when it reads the maximum."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval('access_accessevent_display_seq') FROM generate_series(1, %s)", [count])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM access_accessevent")
        last = cursor.fetchone()[0]
    return list(range(last + 1, last + 1 + count))


def reset_display_sequence() -> None:
    """After rows were written with their own seq (a bulk load): continue after the largest."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval('access_accessevent_display_seq', GREATEST(COALESCE(MAX(seq), 0), 1), "
                "MAX(seq) IS NOT NULL) "
                "FROM access_accessevent"
            )


def journal_entry(**fields: Any) -> AccessEvent:
    """An unsaved journal row (the policy fills it from its decision); journal_append stores it."""
    return AccessEvent(**fields)


def journal_append(events: Iterable[AccessEvent]) -> list[AccessEvent]:
    """Chain and store unsaved events, in order, in one transaction.

    Each event goes to its record's chain; only the heads of those chains are locked, so appends
    for different records never wait on each other. Denials written inside someone's atomic
    block are held until it commits (see above)."""
    events = list(events)
    if not events:
        return events
    _write(events)
    _hold_denials(events)
    return events


def _write(events: list[AccessEvent]) -> None:
    origin = current_origin.get()
    key_id = active_key_id()
    with transaction.atomic():
        for event in events:
            event.chain = chain_for(event.record_uuid)
        heads = _lock_heads(event.chain for event in events)
        for event in events:
            head = heads[event.chain]
            head.seq += 1
            event.chain_seq = head.seq
            event.ip = event.ip or origin.ip
            event.user_agent = (event.user_agent or origin.user_agent)[:300]
            event.prev_hash = head.last_hash
            event.hash = event.compute_hash()
            event.key_id = key_id
            event.mac = entry_mac(event.hash, key_id)
            head.last_hash = event.hash
        JournalChainHead.objects.bulk_update(list(heads.values()), ["seq", "last_hash"])
        for event, seq in zip(events, _display_seqs(len(events)), strict=True):
            event.seq = seq
        AccessEvent.objects.bulk_create(events)


# --- Denials survive rollbacks ---------------------------------------------------------

# The entry's content, without its place in the chain (given again when it is rewritten).
_CHAIN_FIELDS = frozenset({"id", "seq", "chain", "chain_seq", "prev_hash", "hash", "key_id", "mac"})


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


def task_started(task_id: str | None = None, **_kwargs: Any) -> None:
    """Celery's task_prerun: each task is a unit of work for ``denials_kept``."""
    scope = denials_kept()
    scope.__enter__()
    _task_scopes[task_id or ""] = scope


def task_finished(task_id: str | None = None, **_kwargs: Any) -> None:
    """Celery's task_postrun (sent after failures too)."""
    scope = _task_scopes.pop(task_id or "", None)
    if scope is not None:
        scope.__exit__(None, None, None)


def journal_verify(*, full: bool = True) -> JournalReport:
    """Check the journal against the last signed checkpoint (see apps/access/verification.py).

    Reads the table: for commands, tasks and tests, never in a request."""
    from apps.access.verification import verify_journal

    return verify_journal(full=full, record=False)
