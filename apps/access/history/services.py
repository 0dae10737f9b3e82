"""The access history a patient understands: the journal of one record, as plain sentences.

Reading the history is itself an access: it goes through the policy (``Action.JOURNAL_READ``)
and is journaled like any other. Retention: entries are never deleted with a document or a
record (the journal has no foreign keys and refuses deletes), so a deleted document keeps
its title here, through ``resource_label``. A document's title and id are shown only to a
reader who may see that document now (``documents_hidden_from``); others read "a document you
may not see".
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.core import signing
from django.db.models import Exists, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy

from apps.access.door import fetch, require
from apps.access.models import AccessEvent, Outcome
from apps.access.policy import Action, Basis, Decision, decide
from apps.access.sentences import BASIS_PHRASES, ROLE_LABELS, choice_label, entry_reason, entry_sentence

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.records.models import Record

PAGE_SIZE = 100
EXPORT_LIMIT = 10_000
_CURSOR_SALT = "healthspace.access-history"


class ActorKind:
    YOU = "you"
    PEOPLE = "people"
    PROFESSIONAL = "professional"
    SUPPORT = "support"
    SERVICE = "service"

    choices = (
        (YOU, gettext_lazy("You")),
        (PEOPLE, gettext_lazy("Your caregivers, family and other people")),
        (PROFESSIONAL, gettext_lazy("Health professionals")),
        (SUPPORT, gettext_lazy("Support agents")),
        (SERVICE, gettext_lazy("The service (imports, operators)")),
    )


ACTION_GROUPS: dict[str, tuple[Any, frozenset[str]]] = {
    "opened": (
        gettext_lazy("Opened or read"),
        frozenset(
            {
                Action.RECORD_LIST,
                Action.RECORD_VIEW,
                Action.DOCUMENT_LIST,
                Action.DOCUMENT_READ,
                Action.PROFILE_READ,
                Action.JOURNAL_READ,
            }
        ),
    ),
    "added": (gettext_lazy("Added"), frozenset({Action.RECORD_CREATE, Action.DOCUMENT_UPLOAD})),
    "changed": (gettext_lazy("Changed"), frozenset({Action.RECORD_EDIT, Action.DOCUMENT_EDIT, Action.PROFILE_EDIT})),
    "deleted": (gettext_lazy("Deleted"), frozenset({Action.DOCUMENT_DELETE})),
    "settings": (
        gettext_lazy("Settings and permissions"),
        frozenset({Action.SETTINGS_READ, Action.SETTINGS_EDIT, Action.DELEGATION_MANAGE}),
    ),
}


@dataclass(frozen=True)
class HistoryFilters:
    actor_kind: str = ""
    person: str = ""
    action_group: str = ""
    date_from: date | None = None
    date_to: date | None = None
    outcome: str = ""


@dataclass(frozen=True)
class HistoryEntry:
    event: AccessEvent
    sentence: str
    day: date
    actor_kind: str
    refused: bool
    emergency: bool
    first_access: bool
    reason: str = ""
    profession: str = ""
    # The entry names a document the reader may not see now: its title and id are left out.
    redacted: bool = False

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS.get(self.event.actor_role, self.event.actor_role))

    @property
    def action_label(self) -> str:
        return choice_label(Action, self.event.action)

    @property
    def basis_phrase(self) -> str:
        phrase = BASIS_PHRASES.get(self.event.basis)
        return str(phrase) if phrase is not None else self.event.basis

    @property
    def outcome_label(self) -> str:
        return choice_label(Outcome, self.event.outcome)


@dataclass
class HistoryPage:
    record: Record
    decision: Decision
    entries: list[HistoryEntry] = field(default_factory=list)
    next_before: int | None = None

    @property
    def more(self) -> bool:
        return self.next_before is not None

    def days(self) -> list[tuple[date, list[HistoryEntry]]]:
        groups: list[tuple[date, list[HistoryEntry]]] = []
        for entry in self.entries:
            if not groups or groups[-1][0] != entry.day:
                groups.append((entry.day, []))
            groups[-1][1].append(entry)
        return groups


def cursor_encode(seq: int) -> str:
    """Opaque and signed, so a URL names no journal position by itself."""
    return signing.dumps(seq, salt=_CURSOR_SALT)


def cursor_decode(cursor: str) -> int | None:
    """The sequence number behind a cursor; None when it is missing or damaged."""
    if not cursor:
        return None
    try:
        value = signing.loads(cursor, salt=_CURSOR_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def _kind_filter(kind: str, reader: User) -> Q | None:
    if kind == ActorKind.YOU:
        return Q(actor_uuid=reader.uuid)
    if kind == ActorKind.PEOPLE:
        return Q(actor_role="patient") & ~Q(actor_uuid=reader.uuid)
    if kind == ActorKind.PROFESSIONAL:
        return Q(actor_role="professional")
    if kind == ActorKind.SUPPORT:
        return Q(actor_role="support_agent")
    if kind == ActorKind.SERVICE:
        return ~Q(actor_role__in=["patient", "professional", "support_agent"])
    return None


def _filtered(events: QuerySet[AccessEvent], filters: HistoryFilters, reader: User) -> QuerySet[AccessEvent]:
    kind = _kind_filter(filters.actor_kind, reader)
    if kind is not None:
        events = events.filter(kind)
    if filters.person:
        events = events.filter(actor_label__icontains=filters.person)
    if filters.action_group in ACTION_GROUPS:
        events = events.filter(action__in=ACTION_GROUPS[filters.action_group][1])
    # Local days as ranges of instants: a bare occurred_at comparison an index can serve
    # (occurred_at__date converts every row's timestamp before comparing).
    if filters.date_from:
        events = events.filter(occurred_at__gte=_start_of_day(filters.date_from))
    if filters.date_to:
        end = _start_of_day(filters.date_to + timedelta(days=1))
        events = events.filter(occurred_at__lt=end, seq__lt=_seq_after(end))
    if filters.outcome in Outcome.values:
        events = events.filter(outcome=filters.outcome)
    return events


# Entries are stamped just before they are appended: their order by time and by seq may differ
# by this much at most (far less in practice).
_APPEND_SKEW = timedelta(minutes=5)


def _seq_after(moment: datetime) -> Coalesce:
    """A seq that every entry stamped before ``moment`` is below (one probe of the occurred_at index).

    Newest first with "until that day" would otherwise walk the whole newer history before
    reaching the first entry of the page; with this bound the walk starts there.
    """
    later = AccessEvent.objects.filter(occurred_at__gte=moment + _APPEND_SKEW).order_by("occurred_at").values("seq")
    return Coalesce(Subquery(later[:1]), Value(2**63 - 1))


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _actor_kind(event: AccessEvent, reader: User) -> str:
    if event.actor_uuid is not None and event.actor_uuid == reader.uuid:
        return ActorKind.YOU
    return {
        "patient": ActorKind.PEOPLE,
        "professional": ActorKind.PROFESSIONAL,
        "support_agent": ActorKind.SUPPORT,
    }.get(event.actor_role, ActorKind.SERVICE)


def _professions(events: list[AccessEvent]) -> dict[UUID, str]:
    from apps.accounts.models import Profession, User

    uuids = {e.actor_uuid for e in events if e.actor_role == "professional" and e.actor_uuid}
    if not uuids:
        return {}
    # One query for the whole page, whatever its length.
    rows = User.objects.filter(uuid__in=uuids).values_list("uuid", "profession")
    return {uuid: choice_label(Profession, profession) if profession else "" for uuid, profession in rows}


def _first_accesses(record: Record, events: list[AccessEvent], reader: User) -> set[int]:
    """The seqs of the page's entries that are an actor's first allowed access to the record.

    Only an actor's oldest candidate on the page can be their first. For each, one EXISTS probe
    (all in one query) asks whether an earlier allowed access exists: it stops at the first row
    found, instead of the minimum over the actor's whole history with the record (200k rows for
    some). The actor and the bound are literals, not a correlated reference, so PostgreSQL plans
    each probe with that actor's statistics: a newcomer is looked up by actor, a frequent visitor
    by walking back from the bound (a generic plan walked the whole journal for a newcomer).
    """
    oldest: dict[UUID, int] = {}
    for event in events:
        # Finding someone by identity is not opening their record; the reader's own visits are no news.
        if event.actor_uuid and event.actor_uuid != reader.uuid and _counts_as_access(event):
            oldest[event.actor_uuid] = min(event.seq, oldest.get(event.actor_uuid, event.seq))
    if not oldest:
        return set()
    accesses = (
        AccessEvent.objects.for_record(record.uuid).filter(outcome=Outcome.ALLOWED).exclude(action=Action.RECORD_FIND)
    )
    candidates = list(oldest.items())
    probes = {
        f"seen_{n}": Exists(accesses.filter(actor_uuid=actor_uuid, seq__lt=seq))
        for n, (actor_uuid, seq) in enumerate(candidates)
    }
    seen: Mapping[str, object] = type(record).objects.filter(pk=record.pk).values(**probes).get()
    return {seq for n, (_actor_uuid, seq) in enumerate(candidates) if not seen[f"seen_{n}"]}


def _counts_as_access(event: AccessEvent) -> bool:
    return event.outcome == Outcome.ALLOWED and event.action != Action.RECORD_FIND


def _hidden_documents(events: list[AccessEvent], reader: User, record: Record) -> set[UUID]:
    named = {e.resource_uuid for e in events if e.resource_type == "document" and e.resource_uuid is not None}
    return documents_hidden_from(reader=reader, record=record, named=named)


def documents_hidden_from(*, reader: User, record: Record, named: set[UUID]) -> set[UUID]:
    """Those of the ``named`` documents the reader may not see now: journal entries keep their titles out.

    One list decision and one query, whatever the number: the documents the reader may list
    (documents_visible_to, the one rule), among those named. A document no longer in the record
    is shown only to a reader who may read any document of it (decided once, as the most kept
    document there could be). Not journaled: the caller's journal.read row stands for it.
    """
    from apps.records.selectors import document_uuids_shown_to, may_see_any_document

    if not named:
        return set()
    memo: dict[str, Any] = {}
    listing = decide(actor=reader, record=record, action=Action.DOCUMENT_LIST, memo=memo)
    visible = set(document_uuids_shown_to(actor=reader, record=record, named=named, decision=listing))
    if visible == named:
        return set()
    if may_see_any_document(actor=reader, record=record, memo=memo):
        return set()  # the rest were deleted, or the reader sees every document anyway
    return named - visible


def _redacted(event: AccessEvent) -> AccessEvent:
    """A copy of the entry without the document's title and id (never saved: the journal is append-only)."""
    shown = copy.copy(event)
    shown.resource_label = ""
    shown.resource_uuid = None
    return shown


def _entries(events: list[AccessEvent], reader: User, record: Record) -> list[HistoryEntry]:
    professions = _professions(events)
    firsts = _first_accesses(record, events, reader)
    hidden = _hidden_documents(events, reader, record)
    entries = []
    for event in events:
        redacted = event.resource_type == "document" and event.resource_uuid in hidden
        if redacted:
            event = _redacted(event)
        kind = _actor_kind(event, reader)
        profession = professions.get(event.actor_uuid, "") if event.actor_uuid else ""
        entries.append(
            HistoryEntry(
                event=event,
                sentence=entry_sentence(
                    event=event, reader=reader, record=record, profession=profession, redacted=redacted
                ),
                day=timezone.localtime(event.occurred_at).date(),
                actor_kind=kind,
                refused=event.outcome == Outcome.DENIED,
                emergency=event.basis == Basis.BREAK_GLASS,
                # The reader's own first visit is no news to them.
                first_access=kind != ActorKind.YOU and event.seq in firsts,
                reason=entry_reason(event),
                profession=profession,
                redacted=redacted,
            )
        )
    return entries


def history_for(
    *,
    actor: User,
    record: Record,
    filters: HistoryFilters | None = None,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> HistoryPage:
    """The record's journal, newest first, ``limit`` entries older than ``before`` (a seq).

    Journaled as ``journal.read``; raises RecordUnavailable (a 404) when the policy refuses.
    """
    decision = require(actor=actor, record=record, action=Action.JOURNAL_READ)
    events = _filtered(AccessEvent.objects.for_record(record.uuid), filters or HistoryFilters(), actor)
    if before is not None:
        events = events.filter(seq__lt=before)
    rows = list(events.order_by("-seq")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return HistoryPage(
        record=record,
        decision=decision,
        entries=_entries(rows, actor, record),
        next_before=rows[-1].seq if more and rows else None,
    )


def history_get_for(
    *,
    actor: User,
    record_uuid: UUID,
    filters: HistoryFilters | None = None,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> HistoryPage:
    """Fetch the record and read its history in one step; missing and forbidden are the same 404."""
    from apps.records.models import Record

    # Fetched here, decided (and journaled) once by history_for.
    record = fetch(actor, Record, record_uuid, Action.JOURNAL_READ)
    return history_for(actor=actor, record=record, filters=filters, before=before, limit=limit)


def previous_allowed_at(*, actor: User, record: Record, action: str) -> datetime | None:
    """When this person was last allowed `action` on this record, before the latest time.

    The latest is the read being served now (journaled before this is asked): the summary's
    "new since your last visit" reads the one before it. Not a listing: one timestamp of the
    actor's own journal entries."""
    previous = (
        AccessEvent.objects.filter(
            record_uuid=record.uuid, actor_uuid=actor.uuid, action=action, outcome=Outcome.ALLOWED
        )
        .order_by("-seq")
        .values_list("occurred_at", flat=True)[1:2]
    )
    return previous[0] if previous else None


def allowed_entries_count(*, record_uuid: UUID, actor_uuid: UUID, bases: Iterable[str]) -> int:
    """How many times the journal shows this actor let into this record on one of `bases`, lists of
    records aside (a professional's first access is the one with nothing before it)."""
    return (
        AccessEvent.objects.filter(
            record_uuid=record_uuid, actor_uuid=actor_uuid, outcome=Outcome.ALLOWED, basis__in=list(bases)
        )
        .exclude(action=Action.RECORD_LIST)
        .count()
    )
