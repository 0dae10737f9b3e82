"""How professionals get in, and the person's choices about it. Each step is journaled."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.access.models import AccessCode, AccessCodeUse, AccessEvent, CareRelationship, EmergencyAccess, Outcome
from apps.access.policy import (
    PROFESSIONAL_BASES,
    Action,
    Basis,
    Decision,
    Resource,
    authorize,
    decide,
    journal_decision,
    journal_missing_record,
    journal_note,
)
from apps.access.professional import BreakGlassBasis, CareRelationshipBasis
from apps.records.models import Record
from apps.records.selectors import RecordUnavailable

if TYPE_CHECKING:
    from apps.accounts.models import User

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a desk
CODE_LENGTH = 8
CODE_MIN_HOURS, CODE_MAX_HOURS = 1, 7 * 24
CODE_TRIES, CODE_TRIES_WINDOW = 5, 15 * 60
EMERGENCY_HOURS = 12
JUSTIFICATION_MIN = 20


class AccessRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().replace("-", " ").split())


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
    record = None
    if ins:
        record = Record.objects.filter(ins=ins.strip().upper()).first()
    elif family_name and given_name and birth_date:
        wanted = (_fold(family_name), _fold(given_name).split(" ")[0])
        candidates = Record.objects.filter(birth_date=birth_date, family_name__iexact=family_name.strip())
        matches = [r for r in candidates if (_fold(r.family_name), _fold(r.given_names).split(" ")[0]) == wanted]
        record = matches[0] if len(matches) == 1 else None
    journal_search(professional=professional, record=record)
    return record


def journal_search(*, professional: User, record: Record | None) -> None:
    journal_note(
        actor=professional,
        record_uuid=record.uuid if record else None,
        action="record.find",
        allowed=record is not None,
        reason_code="found" if record else "not_found",
    )


def _open(professional: User, record: Record) -> Decision:
    decision = authorize(actor=professional, record=record, action=Action.RECORD_VIEW)
    if decision.allowed:
        notify_first_access(professional=professional, record=record, decision=decision)
    return decision


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
    decision = authorize(actor=actor, record=record, action=Action.SETTINGS_EDIT, resource=Resource("access_code"))
    if not decision.allowed:
        raise RecordUnavailable(decision)
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


def access_code_revoke(*, actor: User, code_uuid) -> AccessCode:
    code = AccessCode.objects.select_related("record").filter(uuid=code_uuid).first()
    if code is None:
        raise RecordUnavailable(journal_missing_record(actor=actor, record_uuid=None, action=Action.SETTINGS_EDIT))
    decision = authorize(
        actor=actor, record=code.record, action=Action.SETTINGS_EDIT, resource=Resource("access_code", code.uuid)
    )
    if not decision.allowed:
        raise RecordUnavailable(decision)
    AccessCode.objects.filter(pk=code.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    code.refresh_from_db()
    return code


def access_codes_for(*, actor: User, record: Record) -> list[AccessCode]:
    decision = authorize(actor=actor, record=record, action=Action.SETTINGS_READ)
    if not decision.allowed:
        raise RecordUnavailable(decision)
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
            action="access_code.use",
            allowed=False,
            reason_code="code_expired" if found else "code_unknown",
            resource=Resource("access_code", found.uuid if found else None),
        )
        if found is not None:
            # The person is told: an old code typed again may be a guess, or a code passed around.
            _notify(found.record, "access_code_refused", f"access_code_refused:{found.uuid}:{professional.uuid}")
            raise AccessRefused(_("This code has expired or was cancelled. Ask the patient for a new one."))
        raise AccessRefused(_("This code is not valid. Check it with the patient."))
    AccessCodeUse.objects.get_or_create(code=found, professional=professional)
    decision = _open(professional, found.record)
    if decision.allowed:
        _notify(found.record, "access_code_used", f"access_code_used:{found.uuid}:{professional.uuid}")
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
        _notify(record, "break_glass", f"break_glass:{emergency.uuid}")
    return decision


# The bases on which a professional opens a record with the person's standing permission
# (an emergency has its own notification).
FIRST_ACCESS_BASES = PROFESSIONAL_BASES - {Basis.BREAK_GLASS}


def notify_first_access(*, professional: User, record: Record, decision: Decision) -> None:
    """The person is told the first time a professional opens their record.

    Only openings count: the search that found the record (journaled as allowed, basis "none")
    and the record appearing in the professional's list come before the first opening.
    """
    if not decision.allowed or decision.basis not in FIRST_ACCESS_BASES:
        return
    earlier = AccessEvent.objects.filter(
        record_uuid=record.uuid,
        actor_uuid=professional.uuid,
        outcome=Outcome.ALLOWED,
        basis__in=FIRST_ACCESS_BASES,
    ).exclude(action=Action.RECORD_LIST)
    if earlier.count() <= 1:  # the entry just written
        _notify(record, "professional_first_access", f"first_access:{record.uuid}:{professional.uuid}")


def _notify(record: Record, event: str, key: str) -> None:
    from apps.notifications.services import notify_followers

    notify_followers(record=record, event=event, dedup_key=key)


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
