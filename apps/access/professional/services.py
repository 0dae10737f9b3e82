"""How professionals get in, and the person's choices about it. Each step is journaled."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.access.door import get_for, require
from apps.access.models import AccessCode, AccessCodeUse, CareRelationship, EmergencyAccess
from apps.access.policy import (
    Action,
    Basis,
    Decision,
    Resource,
    authorize,
    decide,
    journal_decision,
    journal_note,
)
from apps.access.professional.bases import BreakGlassBasis, CareRelationshipBasis
from apps.access.refusals import Refused
from apps.records.identity import record_matching
from apps.records.models import Record

if TYPE_CHECKING:
    from uuid import UUID

    from apps.accounts.models import User

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a desk
CODE_LENGTH = 8
CODE_MIN_HOURS, CODE_MAX_HOURS = 1, 7 * 24
CODE_TRIES, CODE_TRIES_WINDOW = 5, 15 * 60
EMERGENCY_HOURS = 12
JUSTIFICATION_MIN = 20


class AccessRefused(Refused):
    pass


def _must_be_professional(actor: User) -> None:
    if not getattr(actor, "is_professional", False):
        raise AccessRefused(_("Only a health professional can do this."))


def patient_find(
    *, professional: User, ins: str = "", family_name: str = "", given_name: str = "", birth_date: date | None = None
) -> Record | None:
    """Exact match only, never browsing: by INS, or by family name + first given name + birth date.

    A partial identity finds nothing and says nothing about who exists.
    """
    _must_be_professional(professional)
    record = record_matching(ins=ins, family_name=family_name, given_name=given_name, birth_date=birth_date)
    journal_search(professional=professional, record=record)
    return record


def journal_search(*, professional: User, record: Record | None) -> None:
    journal_note(
        actor=professional,
        record_uuid=record.uuid if record else None,
        action=Action.RECORD_FIND,
        allowed=record is not None,
        reason_code="found" if record else "not_found",
    )


def _open(professional: User, record: Record, resource: Resource | None = None) -> Decision:
    # The person is told of a first opening by a decision listener (settings), not here.
    return authorize(actor=professional, record=record, action=Action.RECORD_VIEW, resource=resource)


def care_attest(*, professional: User, record: Record) -> Decision:
    """The professional attests that they take care of the person. Access still depends on the person's choices:
    a refused attestation leaves no relationship behind (it would open silently the day the person
    unblocks the professional or turns professional access back on); the refusal is journaled."""
    _must_be_professional(professional)
    attested = CareRelationshipBasis.attested(professional, record)
    would = decide(
        actor=professional, record=record, action=Action.RECORD_VIEW, memo=attested, only_basis=Basis.CARE_RELATIONSHIP
    )
    if would.allowed:
        try:
            with transaction.atomic():
                CareRelationship.objects.get_or_create(professional=professional, record=record, revoked_at=None)
        except IntegrityError:
            pass  # two clicks at once: one relationship
    elif not decide(actor=professional, record=record, action=Action.RECORD_VIEW).allowed:
        # Nothing else opens either: the journal keeps why the attestation was refused (blocked...).
        journal_decision(actor=professional, record=record, action=Action.RECORD_VIEW, decision=would)
        return would
    return _open(professional, record)


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").upper().encode()).hexdigest()


def access_code_create(*, actor: User, record: Record, hours: int) -> tuple[AccessCode, str]:
    """A code for one consultation, valid ``hours``. The code itself is shown once and never stored."""
    if not CODE_MIN_HOURS <= hours <= CODE_MAX_HOURS:
        raise ValueError(_("An access code lasts from 1 hour to 7 days."))
    require(actor=actor, record=record, action=Action.SETTINGS_EDIT, resource=Resource("access_code"))
    for _attempt in range(5):
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        try:
            with transaction.atomic():
                code = AccessCode.objects.create(
                    record=record,
                    code_hash=_code_hash(raw),
                    hint=raw[-2:],
                    created_by=actor,
                    expires_at=timezone.now() + timedelta(hours=hours),
                )
        except IntegrityError:
            continue
        return code, f"{raw[:4]}-{raw[4:]}"
    raise RuntimeError("could not draw a unique access code")


def access_code_revoke(*, actor: User, code_uuid: UUID | str) -> AccessCode:
    code, _decision = get_for(actor, AccessCode, code_uuid, Action.SETTINGS_EDIT)
    AccessCode.objects.filter(pk=code.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    code.refresh_from_db()
    return code


def access_codes_for(*, actor: User, record: Record) -> list[AccessCode]:
    require(actor=actor, record=record, action=Action.SETTINGS_READ)
    return list(AccessCode.objects.filter(record=record).prefetch_related("uses").order_by("-created_at")[:50])


def access_code_redeem(*, professional: User, code: str) -> tuple[Record | None, Decision | None]:
    """A professional types the code the person gave. Guessing is rate-limited and journaled."""
    _must_be_professional(professional)
    key = f"access-code-tries:{professional.pk}"
    tries = cache.get(key, 0)
    if tries >= CODE_TRIES:
        raise AccessRefused(_("Too many wrong codes. Wait 15 minutes before trying again."))
    found = AccessCode.objects.select_related("record").filter(code_hash=_code_hash(code)).first()
    now = timezone.now()
    if found is None or found.revoked_at or found.expires_at <= now:
        cache.set(key, tries + 1, CODE_TRIES_WINDOW)
        journal_note(
            actor=professional,
            record_uuid=found.record.uuid if found else None,
            action=Action.ACCESS_CODE_USE,
            allowed=False,
            reason_code="code_expired" if found else "code_unknown",
            resource=Resource("access_code", found.uuid if found else None),
        )
        if found is not None:
            # The person is told (a listener hears the refusal): an old code typed again may be a
            # guess, or a code passed around.
            raise AccessRefused(_("This code has expired or was cancelled. Ask the patient for a new one."))
        raise AccessRefused(_("This code is not valid. Check it with the patient."))
    AccessCodeUse.objects.get_or_create(code=found, professional=professional)
    # Opened with the code (the resource names it): a listener tells the person it was used.
    decision = _open(professional, found.record, Resource("access_code", found.uuid))
    return found.record, decision


def emergency_declare(*, professional: User, record: Record, justification: str) -> Decision:
    """Break-glass. Allowed unless the person refused emergency access or blocked this professional;
    the person is told at once.

    The decision comes first: a refused declaration writes nothing but its journal entry, so it can
    never open later (when the person turns emergency access back on, or unblocks the professional).
    """
    _must_be_professional(professional)
    justification = " ".join(justification.split())
    if len(justification) < JUSTIFICATION_MIN:
        raise ValueError(_("Explain the emergency in a sentence or more (at least 20 characters)."))
    would = decide(
        actor=professional,
        record=record,
        action=Action.RECORD_VIEW,
        resource=Resource("emergency", None, justification[:300]),
        memo=BreakGlassBasis.declared(professional, record),
        only_basis=Basis.BREAK_GLASS,
    )
    if not would.allowed:
        journal_decision(
            actor=professional,
            record=record,
            action=Action.RECORD_VIEW,
            resource=Resource("emergency", None, justification[:300]),
            decision=would,
        )
        return would
    with transaction.atomic():
        emergency = EmergencyAccess.objects.create(
            professional=professional,
            record=record,
            justification=justification[:2000],
            expires_at=timezone.now() + timedelta(hours=EMERGENCY_HOURS),
        )
        decision = authorize(
            actor=professional,
            record=record,
            action=Action.RECORD_VIEW,
            resource=Resource("emergency", emergency.uuid, justification[:300]),
        )
        if not decision.allowed:
            # The person changed their choice in between: undo the row; the denial survives the rollback.
            transaction.set_rollback(True)
            return decision
        # The person is told at once: a listener hears the allowed emergency decision.
    return decision


def professionals_search(*, query: str, limit: int = 20) -> list[User]:
    """The directory of professionals, for a person choosing whom to block or designate (no medical data)."""
    from apps.accounts.models import Role, User

    query = query.strip()
    if len(query) < 2:
        return []
    return list(
        User.objects.filter(role=Role.PROFESSIONAL, is_active=True)
        .filter(Q(display_name__icontains=query) | Q(rpps=query))
        .order_by("display_name")[:limit]
    )
