"""The one door: every read or write of record data asks ``authorize`` first.

``decide`` answers (actor, record, action, resource) -> allowed or not, on
which basis and why, in words a patient understands. ``authorize`` decides
and writes the decision to the journal, denials included. The bases that can
grant access are listed in settings.ACCESS_POLICY_BASES; adding one (delegation,
care relationship, mandate...) changes no caller.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from apps.access.journal import journal_append
from apps.access.models import AccessEvent, Outcome

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.records.models import Record


class Action(models.TextChoices):
    RECORD_LIST = "record.list", _("saw in a list of records")
    RECORD_VIEW = "record.view", _("opened the record")
    RECORD_CREATE = "record.create", _("created the record")
    RECORD_EDIT = "record.edit", _("changed the record's identity")
    DOCUMENT_LIST = "document.list", _("listed the documents")
    DOCUMENT_READ = "document.read", _("opened a document")
    DOCUMENT_UPLOAD = "document.upload", _("added a document")
    DOCUMENT_EDIT = "document.edit", _("changed a document")
    DOCUMENT_DELETE = "document.delete", _("deleted a document")
    PROFILE_READ = "profile.read", _("read the medical profile")
    PROFILE_EDIT = "profile.edit", _("changed the medical profile")
    SETTINGS_READ = "settings.read", _("read the privacy settings")
    SETTINGS_EDIT = "settings.edit", _("changed the privacy settings")
    JOURNAL_READ = "journal.read", _("read the access history")
    DELEGATION_MANAGE = "delegation.manage", _("managed who may act for the person")
    ACCOUNT_HELP = "account.help", _("helped with the account")


# Actions that touch medical content (as opposed to identity and settings).
MEDICAL_ACTIONS = frozenset(
    {
        Action.DOCUMENT_LIST,
        Action.DOCUMENT_READ,
        Action.DOCUMENT_UPLOAD,
        Action.DOCUMENT_EDIT,
        Action.DOCUMENT_DELETE,
        Action.PROFILE_READ,
        Action.PROFILE_EDIT,
    }
)


class Basis(models.TextChoices):
    OWNER = "owner", _("the person themself")
    PARENT = "parent", _("parent of a child")
    DELEGATION = "delegation", _("caregiver by delegation")
    CARE_RELATIONSHIP = "care_relationship", _("professional caring for the person")
    DESIGNATED_DOCTOR = "designated_doctor", _("designated doctor")
    ACCESS_CODE = "access_code", _("access code given by the person")
    BREAK_GLASS = "break_glass", _("emergency access")
    MANDATE = "mandate", _("support mandate")
    IMPORT = "import", _("bulk import by the service's operators")
    NONE = "none", _("no basis")


@dataclass(frozen=True)
class Resource:
    """What inside a record is touched; None means the record as a whole."""

    type: str
    uuid: UUID | None = None
    label: str = ""
    category: str = ""  # a document's category, for the profession matrix
    masked: bool = False  # a document hidden from professionals
    confidential: bool = False  # a minor's document hidden from the parents


REASONS: dict[str, Any] = {
    "owner": _("This is your own record."),
    "delegation": _("The person chose you as a caregiver for this."),
    "mandate": _("The person gave you a support mandate for this."),
    "confidential_from_parents": _("This document is part of a minor's confidential care: parents do not see it."),
    "parent": _("You manage this record as the parent of a child."),
    "anonymous": _("You need to log in first."),
    "inactive": _("This account is disabled."),
    "operator": _("Operators run the service; they never see medical content."),
    "support_without_mandate": _("A support agent can act on a record only under a mandate given by the person."),
    "professional_without_basis": _(
        "A professional needs the patient's permission: a care relationship, an access code, or a declared emergency."
    ),
    "not_allowed": _("Only the person, and the people they allowed, can reach this record."),
    "no_such_record": _("There is no record here, or you may not see it."),
    "import": _("The service's operators added this document while moving records from another system."),
    "care_relationship": _("You declared that you take care of this patient."),
    "designated_doctor": _("You are this patient's designated doctor."),
    "access_code": _("The patient gave you an access code for this consultation."),
    "break_glass": _("You declared an emergency. The patient is told."),
    "professional_read_only": _("A professional can read this record, not change it."),
    # What the professional is told must not reveal a restriction (EHDS art. 8): these
    # read like "nothing here"; only the person's own access history names them.
    "blocked": _("There is no record here, or you may not see it."),
    "professional_access_off": _("There is no record here, or you may not see it."),
    "emergency_access_off": _("There is no record here, or you may not see it."),
    "masked": _("There is no document here, or you may not see it."),
    "profession_matrix": _("Your profession does not give access to this kind of document."),
    "wrong_code": _("The code typed was not right."),
    "too_many_tries": _("Too many wrong codes: it was cancelled."),
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    basis: str
    reason_code: str
    on_behalf_of: User | None = None
    purpose: str = ""

    @property
    def reason(self) -> str:
        if self.reason_code.startswith("scope_missing."):
            from apps.assistance.models import MandateScope
            from apps.delegations.models import Scope

            scope = self.reason_code.removeprefix("scope_missing.")
            # Delegations' and mandates' scopes share a few names; the first that knows it says it.
            choices = next((c for c in (Scope, MandateScope) if scope in c.values), None)
            label = choices(scope).label if choices else scope
            return str(_("The person did not give you the right to: %(scope)s.") % {"scope": label})
        return str(REASONS.get(self.reason_code, REASONS["not_allowed"]))


PROFESSIONAL_BASES = frozenset({Basis.CARE_RELATIONSHIP, Basis.DESIGNATED_DOCTOR, Basis.ACCESS_CODE, Basis.BREAK_GLASS})

# Bases whose grant leaves part of the record out of lists (the documents the person hid from
# professionals). When one grants, the search goes on: a wider basis held by the same person
# (a designated doctor who also attested care) wins, whatever the configured order. The
# decision's basis is what lists filter on (visible_documents_filter), so it must be the widest.
NARROW_BASES = frozenset({Basis.CARE_RELATIONSHIP, Basis.ACCESS_CODE, Basis.BREAK_GLASS})


class PolicyBasis(Protocol):
    """A way to be allowed in. Returns a Decision when it grants, else None."""

    def grant(
        self, actor: User, record: Record, action: str, resource: Resource | None, memo: dict[str, Any]
    ) -> Decision | None:
        """``memo`` lives for one batch of decisions, so a basis can load what it needs once."""

    def reachable(self, actor: User) -> models.Q | None:
        """Records this basis may open for the actor, as a filter on Record (None: none)."""


@cache
def _bases() -> tuple[PolicyBasis, ...]:
    return tuple(import_string(path)() for path in settings.ACCESS_POLICY_BASES)


@cache
def _restrictions() -> tuple[Any, ...]:
    return tuple(import_string(path)() for path in settings.ACCESS_POLICY_RESTRICTIONS)


def _denial(actor: User | None) -> Decision:
    if actor is None or not actor.is_authenticated:
        code = "anonymous"
    elif not actor.is_active:
        code = "inactive"
    elif actor.is_staff:
        code = "operator"
    elif actor.is_support_agent:
        code = "support_without_mandate"
    elif actor.is_professional:
        code = "professional_without_basis"
    else:
        code = "not_allowed"
    return Decision(allowed=False, basis=Basis.NONE, reason_code=code)


def decide(
    *,
    actor: User | None,
    record: Record,
    action: str,
    resource: Resource | None = None,
    memo: dict[str, Any] | None = None,
    only_basis: str | None = None,
) -> Decision:
    """The decision alone, journaled by nobody: use ``authorize`` to act on it.

    ``only_basis`` asks what that basis alone would decide (with the person's restrictions), e.g.
    before writing the row it needs: a refused one must leave nothing that could open later.
    """
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return _denial(actor)
    memo = {} if memo is None else memo
    refused: Decision | None = None
    narrow: Decision | None = None
    for basis in _bases():
        if only_basis is not None and getattr(basis, "basis", None) != only_basis:
            continue
        if narrow is not None and getattr(basis, "basis", None) in NARROW_BASES:
            continue  # it could open no more than the narrow grant already found
        decision = basis.grant(actor, record, action, resource, memo)
        if decision is None:
            continue
        if not decision.allowed:  # a basis that applies but not to this action says why
            refused = refused or decision
            continue
        # A granting basis is then checked against the person's restrictions
        # (blocked professional, masked document...); another basis may still open.
        for restriction in _restrictions():
            denial = restriction.restrict(actor, record, action, resource, decision, memo)
            if denial is not None:
                refused = refused or denial
                break
        else:
            if decision.basis not in NARROW_BASES:
                return decision
            narrow = narrow or decision
    return narrow or refused or _denial(actor)


def _actor_role(actor: User | None) -> str:
    if actor is None or not actor.is_authenticated:
        return "anonymous"
    return "operator" if actor.is_staff else actor.role


def _event(
    actor: User | None,
    record_uuid: UUID | None,
    action: str,
    resource: Resource | None,
    decision: Decision,
    purpose: str,
) -> AccessEvent:
    authenticated = actor is not None and actor.is_authenticated
    return AccessEvent(
        actor_uuid=actor.uuid if authenticated else None,
        actor_label=str(actor) if authenticated else "",
        actor_role=_actor_role(actor),
        on_behalf_of_uuid=decision.on_behalf_of.uuid if decision.on_behalf_of else None,
        on_behalf_of_label=str(decision.on_behalf_of) if decision.on_behalf_of else "",
        record_uuid=record_uuid,
        action=action,
        resource_type=resource.type if resource else "record",
        resource_uuid=resource.uuid if resource else None,
        resource_label=(resource.label if resource else "")[:300],
        basis=decision.basis,
        purpose=purpose or decision.purpose,
        outcome=Outcome.ALLOWED if decision.allowed else Outcome.DENIED,
        reason_code=decision.reason_code,
    )


def authorize(
    *,
    actor: User | None,
    record: Record,
    action: str,
    resource: Resource | None = None,
    purpose: str = "",
) -> Decision:
    """Decide and journal. Callers act only when ``decision.allowed``."""
    decision = decide(actor=actor, record=record, action=action, resource=resource)
    journal_decision(actor=actor, record=record, action=action, resource=resource, decision=decision, purpose=purpose)
    if decision.allowed and decision.basis in ACTING_FOR_BASES and action != Action.RECORD_LIST:
        _tell_of_use(actor, record, decision)
    return decision


def journal_decision(
    *,
    actor: User | None,
    record: Record,
    action: str,
    decision: Decision,
    resource: Resource | None = None,
    purpose: str = "",
) -> None:
    """Journal a decision taken by ``decide`` (e.g. on what would happen, before writing anything)."""
    journal_append([_event(actor, record.uuid, action, resource, decision, purpose)])


# Someone acting for the person: the person is told when that power is used.
ACTING_FOR_BASES = {Basis.DELEGATION: "caregiver_acted", Basis.MANDATE: "mandate_acted"}


def _tell_of_use(actor: User, record: Record, decision: Decision) -> None:
    """Once a day per helper and record (seeing it in a list does not count), as the person chose
    in their notification settings; the access history says what exactly was done."""
    from django.core.cache import cache as django_cache

    from apps.notifications.services import notify_followers

    key = f"acted_for:{actor.uuid}:{record.uuid}:{timezone.localdate().isoformat()}"
    try:
        if not django_cache.add(key, 1, 26 * 3600):
            return
    except Exception:
        logger.warning("cache unavailable; notification deduplicated by the database", exc_info=True)
    notify_followers(record=record, event=ACTING_FOR_BASES[decision.basis], dedup_key=key)


def authorize_many(
    *, actor: User | None, records: Sequence[Record], action: str, purpose: str = "", journal_denials: bool = True
) -> list[tuple[Record, Decision]]:
    """Decide for several records at once, journaling each decision in one write."""
    memo: dict[str, Any] = {}
    for part in (*_bases(), *_restrictions()):
        if hasattr(part, "prefetch"):
            part.prefetch(actor, records, memo)
    results = [(record, decide(actor=actor, record=record, action=action, memo=memo)) for record in records]
    journal_append(
        _event(actor, record.uuid, action, None, decision, purpose)
        for record, decision in results
        if decision.allowed or journal_denials
    )
    return results


def journal_missing_record(*, actor: User | None, record_uuid: UUID | None, action: str) -> Decision:
    """A request for a record that does not exist is journaled as a denial too."""
    return journal_note(
        actor=actor, record_uuid=record_uuid, action=action, allowed=False, reason_code="no_such_record"
    )


def journal_note(
    *,
    actor: User | None,
    record_uuid: UUID | None,
    action: str,
    allowed: bool,
    reason_code: str,
    resource: Resource | None = None,
) -> Decision:
    """Journal a step that is not a decision on a record (a search, a code typed in) with its outcome."""
    decision = Decision(allowed=allowed, basis=Basis.NONE, reason_code=reason_code)
    journal_append([_event(actor, record_uuid, action, resource, decision, "")])
    return decision


def reachable_record_filter(*, actor: User | None) -> models.Q | None:
    """Which records some basis could open for the actor (for listing, before deciding each)."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return None
    filters = [q for q in (basis.reachable(actor) for basis in _bases()) if q is not None]
    if not filters:
        return None
    combined = filters[0]
    for q in filters[1:]:
        combined |= q
    return combined
