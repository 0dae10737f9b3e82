"""One fetch-and-check: the object by its identifier, its record, a journaled decision, or the one 404.

``get_for(actor, Document, document_uuid, Action.DOCUMENT_READ)`` fetches the object, finds its
record, describes it to the policy as a ``Resource``, decides and journals (a missing object and
a malformed identifier too), and raises ``RecordUnavailable`` when either fails: a prober cannot
tell "not there" from "not for you". The registry below says, for each kind of object, how to
reach its record and how to describe it; the models stay in their apps (named, imported late).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from django.db.models import Model, QuerySet

from apps.access.policy import Decision, Resource, authorize, journal_note
from apps.access.refusals import RecordUnavailable

if TYPE_CHECKING:
    from apps.access.actors import Actor
    from apps.accounts.models import User
    from apps.records.models import Record

M = TypeVar("M", bound=Model)

ResourceFor = Callable[[Any, str], Resource | None]


@dataclass(frozen=True)
class Entry:
    """How the door reaches an object's record and how it shows the object to the policy."""

    kind: str  # the journal's resource type for this kind of object
    record: Callable[[Any], Record]
    resource: ResourceFor
    related: tuple[str, ...] = ("record",)  # fetched with the object: the record at least
    label: Any = ""  # what the journal says of a missing one (a lazy translation, read when journaled)


def as_uuid(value: object) -> UUID | None:
    """An identifier as a UUID; None for anything malformed (which then reads as missing)."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _own_record(obj: Any) -> Record:
    return obj.record


def document_resource(document: Any) -> Resource:
    """A document as the policy sees it: every rule about documents reads these fields."""
    return Resource(
        "document",
        document.uuid,
        document.title,
        category=document.category,
        masked=document.masked,
        confidential=document.confidential_from_parents,
    )


def _fact(fact: Any, action: str) -> Resource:
    from apps.access.policy import Action

    # Reading a fact drawn from a document is reading that document: every document rule applies.
    document = fact.source_document
    if action == Action.PROFILE_READ and document is not None:
        return document_resource(document)
    if action == Action.PROFILE_READ and getattr(fact, "deleted_source_restricted", False):
        # Its deleted document was masked or confidential, which no one can tell apart now: both hold.
        return Resource("document", fact.uuid, fact.display[:300], masked=True, confidential=True)
    return Resource("fact", fact.uuid, fact.display[:300])


# Kinds registered by the apps above the door (in their AppConfig.ready), which the door must not import.
_registered: dict[str, Entry] = {}


def register(label: str, entry: Entry) -> None:
    """An app above the door describes one of its models to it (``app_label.Model``)."""
    _registered[label] = entry
    _registry.cache_clear()


@cache
def _registry() -> dict[str, Entry]:
    return {
        **_registered,
        "records.Record": Entry("record", record=lambda record: record, resource=lambda _o, _a: None, related=()),
        "records.Document": Entry(
            "document", record=_own_record, resource=lambda document, _a: document_resource(document)
        ),
        "clinical.ClinicalFact": Entry(
            "fact", record=_own_record, resource=_fact, related=("record", "source_document")
        ),
        "clinical.RectificationRequest": Entry(
            "fact",
            record=lambda rectification: rectification.fact.record,
            resource=lambda rectification, action: Resource(
                "fact", rectification.fact.uuid, rectification.fact.display[:300]
            ),
            related=("fact__record",),
        ),
        "delegations.Delegation": Entry(
            "delegation", record=_own_record, resource=lambda delegation, _a: Resource("delegation", delegation.uuid)
        ),
        "assistance.Mandate": Entry(
            "mandate",
            record=_own_record,
            resource=lambda mandate, _a: Resource("mandate", mandate.uuid, mandate.number),
        ),
        "access.AccessCode": Entry(
            "access_code", record=_own_record, resource=lambda code, _a: Resource("access_code", code.uuid)
        ),
    }


def entry_for(model: type[Model]) -> Entry:
    """The registry's entry for a model; a model nobody registered is a programming error."""
    return _registry()[model._meta.label]


def require(
    *, actor: Actor | None, record: Record, action: str, resource: Resource | None = None, purpose: str = ""
) -> Decision:
    """Decide and journal; a refusal raises the one 404. For callers that already hold the record."""
    decision = authorize(actor=actor, record=record, action=action, resource=resource, purpose=purpose)
    if not decision.allowed:
        raise RecordUnavailable(decision)
    return decision


def fetch(actor: User | None, model: type[M] | QuerySet[M], id: object, action: str, *, journal: bool = True) -> M:
    """The object alone, or the one 404 with the miss journaled (``journal=False``: a silent re-check).

    For callers whose decision is not a plain ``authorize`` (a code typed in, a basis about to be
    created); everyone else calls ``get_for``. ``model`` may be a queryset, to prefetch what the
    caller needs next.
    """
    queryset = model if isinstance(model, QuerySet) else None
    model_class: type[M] = queryset.model if queryset is not None else model  # type: ignore[assignment]
    entry = entry_for(model_class)
    if queryset is None:
        queryset = model_class._default_manager.select_related(*entry.related)
    uuid = as_uuid(id)
    obj = queryset.filter(uuid=uuid).first() if uuid is not None else None
    if obj is not None:
        return obj
    decision = Decision(allowed=False, basis="none", reason_code="no_such_record")
    if journal:
        is_record = model_class._meta.label == "records.Record"
        decision = journal_note(
            actor=actor,
            record_uuid=uuid if is_record else None,
            action=action,
            allowed=False,
            reason_code="no_such_record",
            resource=None if is_record else Resource(entry.kind, uuid, str(entry.label)),
        )
    raise RecordUnavailable(decision)


def get_for(
    actor: User | None,
    model: type[M] | QuerySet[M],
    id: object,
    action: str,
    *,
    resource_for: ResourceFor | None = None,
    purpose: str = "",
) -> tuple[M, Decision]:
    """Fetch by identifier and check in one step: the object and the allowing decision, or the one 404.

    ``resource_for(obj, action)`` replaces the registry's description of the object when the
    caller touches something more precise (a letter under a mandate, the directives of a record).
    """
    obj = fetch(actor, model, id, action)
    entry = entry_for(type(obj))
    resource = (resource_for or entry.resource)(obj, action)
    decision = require(actor=actor, record=entry.record(obj), action=action, resource=resource, purpose=purpose)
    return obj, decision
