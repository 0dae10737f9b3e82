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
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from django.conf import settings
from django.db import models
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from apps.access.journal import journal_append, journal_entry
from apps.access.listeners import Decided, tell_listeners
from apps.access.models import Outcome

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from apps.access.actors import Actor
    from apps.access.models import AccessEvent
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
    # Steps that are journaled without being on a record yet, or that only some bases may do.
    # The stored values are those the journal already holds: never change one.
    RECORD_FIND = "record.find", _("looked for the record by identity")
    RECORD_INVITE = "record.invite", _("managed the family invitations")
    RECORD_SECOND_PARENT = "record.second_parent", _("joined the record as the second parent")
    RECORD_HANDOVER = "record.handover", _("received the record at coming of age")
    DOCUMENT_CONFIDENTIAL = "document.confidential", _("kept a document from the parents")
    ACCESS_CODE_USE = "access_code.use", _("typed an access code")
    MANDATE_START = "mandate.start", _("started a support mandate")
    MANDATE_CONFIRM = "mandate.confirm", _("confirmed a support mandate")
    MANDATE_COUNTERSIGN = "mandate.countersign", _("countersigned a paper support mandate")
    MANDATE_PRINT = "mandate.print", _("printed a support mandate")
    ACCOUNT_LETTER_POSTED = "account.letter_posted", _("posted a letter with a code")
    ACCOUNT_LETTER_CODE = "account.letter_code", _("typed the code of a letter")
    ACCOUNT_ACTIVATION = "account.activation", _("opened the account with a letter")
    ACCOUNT_NEW_PASSWORD = "account.new_password", _("chose a new password with a letter")
    ACCOUNT_SECOND_FACTOR = "account.second_factor", _("reset the two-step verification with a letter")


class UnknownAction(ValueError):
    """A journaled act outside ``Action``: a programming error (the patient could not read it)."""


_ACTIONS = frozenset(Action.values)


def _known(action: str) -> str:
    if action not in _ACTIONS:
        raise UnknownAction(f"{action!r} is not an access.policy.Action: add it there, with its sentence")
    return action


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
        Action.DOCUMENT_CONFIDENTIAL,  # only on a document the actor may see (masked, matrix)
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
    STRUCTURE_MANAGER = "structure_manager", _("manager of the support structure")
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
    "structure_manager": _("You manage the support structure that holds this mandate."),
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
    # What was decided (stamped by ``decide``): lists check that a decision was taken for listing.
    action: str = ""

    @property
    def reason(self) -> str:
        if self.reason_code.startswith("scope_missing."):
            scope = self.reason_code.removeprefix("scope_missing.")
            # The basis that owns the scope names it (delegations' and mandates' scopes share a few
            # names; the first that knows it says it): the door imports no app above it.
            labels = (getattr(basis, "scope_label", None) for basis in _bases())
            label = next((found for found in (named(scope) for named in labels if named) if found), scope)
            return str(_("The person did not give you the right to: %(scope)s.") % {"scope": label})
        return str(REASONS.get(self.reason_code, REASONS["not_allowed"]))


PROFESSIONAL_BASES = frozenset({Basis.CARE_RELATIONSHIP, Basis.DESIGNATED_DOCTOR, Basis.ACCESS_CODE, Basis.BREAK_GLASS})

# Bases whose grant leaves part of the record out of lists (the documents the person hid from
# professionals). When one grants, the search goes on: a wider basis held by the same person
# (a designated doctor who also attested care) wins, whatever the configured order. The
# decision's basis is what lists filter on (document_scope), so it must be the widest.
NARROW_BASES = frozenset({Basis.CARE_RELATIONSHIP, Basis.ACCESS_CODE, Basis.BREAK_GLASS})

# Acts that belong to some bases only, whoever else may do "everything" on the record (the
# person, a parent): a grant on another basis is refused for them. Callers ask for the act;
# none checks a basis by hand.
ACTION_BASES: dict[str, frozenset[str]] = {
    # A professional caring for a minor keeps a document from the parents (EHDS: the minor's
    # confidential care); the parents cannot undo it, and it is a write, not a read.
    Action.DOCUMENT_CONFIDENTIAL: PROFESSIONAL_BASES,
    # Inviting the second parent, or handing the record over at majority: a parent's act.
    Action.RECORD_INVITE: frozenset({Basis.PARENT}),
    # A paper mandate is countersigned by a manager of the agent's structure, nobody else.
    Action.MANDATE_COUNTERSIGN: frozenset({Basis.STRUCTURE_MANAGER}),
}


class PolicyBasis(Protocol):
    """A way to be allowed in. Returns a Decision when it grants, else None."""

    def grant(
        self, actor: Actor, record: Record, action: str, resource: Resource | None, memo: dict[str, Any]
    ) -> Decision | None:
        """``memo`` lives for one batch of decisions, so a basis can load what it needs once."""

    def reachable(self, actor: Actor) -> models.Q | None:
        """Records this basis may open for the actor, as a filter on Record (None: none)."""


@cache
def _bases() -> tuple[PolicyBasis, ...]:
    return tuple(import_string(path)() for path in settings.ACCESS_POLICY_BASES)


@cache
def _restrictions() -> tuple[Any, ...]:
    return tuple(import_string(path)() for path in settings.ACCESS_POLICY_RESTRICTIONS)


def _denial(actor: Actor | None) -> Decision:
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
    actor: Actor | None,
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
    _known(action)
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return _denial(actor)
    memo = {} if memo is None else memo
    only_for = ACTION_BASES.get(action)
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
            if only_for is not None and decision.basis not in only_for:
                # The act is not this basis's to do (a parent marking a document confidential).
                refused = refused or Decision(allowed=False, basis=Basis.NONE, reason_code="not_allowed")
                continue
            if decision.basis not in NARROW_BASES:
                return replace(decision, action=action)
            narrow = narrow or decision
    return replace(narrow or refused or _denial(actor), action=action)


def document_scope(*, actor: User, decision: Decision) -> models.Q:
    """The documents an allowed decision shows in a list: the restrictions ``decide`` applies to one
    document, each as a filter (apps/access/restrictions.py). A refused decision shows none."""
    if not decision.allowed:
        return models.Q(pk__in=[])
    scope = models.Q()
    for restriction in _restrictions():
        scope &= restriction.scope(actor, decision)
    return scope


def _actor_role(actor: Actor | None) -> str:
    if actor is None or not actor.is_authenticated:
        return "anonymous"
    return "operator" if actor.is_staff else actor.role


def _event(
    actor: Actor | None,
    record_uuid: UUID | None,
    action: str,
    resource: Resource | None,
    decision: Decision,
    purpose: str,
) -> AccessEvent:
    authenticated = actor is not None and actor.is_authenticated
    return journal_entry(
        actor_uuid=actor.uuid if actor is not None and authenticated else None,
        actor_label=str(actor) if authenticated else "",
        actor_role=_actor_role(actor),
        on_behalf_of_uuid=decision.on_behalf_of.uuid if decision.on_behalf_of else None,
        on_behalf_of_label=str(decision.on_behalf_of) if decision.on_behalf_of else "",
        record_uuid=record_uuid,
        action=_known(action),
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
    actor: Actor | None,
    record: Record,
    action: str,
    resource: Resource | None = None,
    purpose: str = "",
) -> Decision:
    """Decide, journal, then tell the listeners (settings.ACCESS_DECISION_LISTENERS). Callers act
    only when ``decision.allowed``. Nothing is sent from here: notices are the listeners'."""
    decision = decide(actor=actor, record=record, action=action, resource=resource)
    journal_decision(actor=actor, record=record, action=action, resource=resource, decision=decision, purpose=purpose)
    return decision


def journal_decision(
    *,
    actor: Actor | None,
    record: Record,
    action: str,
    decision: Decision,
    resource: Resource | None = None,
    purpose: str = "",
) -> None:
    """Journal a decision taken by ``decide`` (e.g. on what would happen, before writing anything)."""
    event = _event(actor, record.uuid, action, resource, decision, purpose)
    journal_append([event])
    tell_listeners([Decided(actor, record, record.uuid, action, resource, decision, event)])


def authorize_many(
    *, actor: Actor | None, records: Sequence[Record], action: str, purpose: str = "", journal_denials: bool = True
) -> list[tuple[Record, Decision]]:
    """Decide for several records at once, journaling each decision in one write."""
    memo: dict[str, Any] = {}
    for part in (*_bases(), *_restrictions()):
        if hasattr(part, "prefetch"):
            part.prefetch(actor, records, memo)
    results = [(record, decide(actor=actor, record=record, action=action, memo=memo)) for record in records]
    journaled = [
        (record, decision, _event(actor, record.uuid, action, None, decision, purpose))
        for record, decision in results
        if decision.allowed or journal_denials
    ]
    journal_append(event for _record, _decision, event in journaled)
    tell_listeners([Decided(actor, record, record.uuid, action, None, d, event) for record, d, event in journaled])
    return results


def journal_missing_record(*, actor: Actor | None, record_uuid: UUID | None, action: str) -> Decision:
    """A request for a record that does not exist is journaled as a denial too."""
    return journal_note(
        actor=actor, record_uuid=record_uuid, action=action, allowed=False, reason_code="no_such_record"
    )


def journal_note(
    *,
    actor: Actor | None,
    record_uuid: UUID | None,
    action: str,
    allowed: bool,
    reason_code: str,
    resource: Resource | None = None,
) -> Decision:
    """Journal a step that is not a decision on a record (a search, a code typed in) with its outcome."""
    decision = Decision(allowed=allowed, basis=Basis.NONE, reason_code=reason_code)
    event = _event(actor, record_uuid, action, resource, decision, "")
    journal_append([event])
    tell_listeners([Decided(actor, None, record_uuid, action, resource, decision, event)])
    return decision


def reachable_record_filter(*, actor: Actor | None) -> models.Q | None:
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
