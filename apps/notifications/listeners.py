"""The notices that follow an access decision, heard from the policy (settings.ACCESS_DECISION_LISTENERS).

The policy journals and sends nothing; these listeners tell the person. Each ``wants`` answers
from the decision alone (it runs on every decision); ``heard`` writes through ``notify_followers``,
in its own transaction block, deduplicated as before (the keys below are the notices' identities).
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.utils import timezone

from apps.access.listeners import Decided
from apps.access.policy import PROFESSIONAL_BASES, Action, Basis
from apps.notifications.services import notify_followers

logger = logging.getLogger(__name__)

# Someone acting for the person: the person is told when that power is used.
ACTING_FOR_BASES: dict[str, str] = {Basis.DELEGATION: "caregiver_acted", Basis.MANDATE: "mandate_acted"}

# The bases on which a professional opens a record with the person's standing permission
# (an emergency has its own notice).
FIRST_ACCESS_BASES = PROFESSIONAL_BASES - {Basis.BREAK_GLASS}


def _first_time(key: str, seconds: int) -> bool:
    """The cache spares the database a query; without it, the notice's dedup key still holds."""
    try:
        return bool(cache.add(key, 1, seconds))
    except Exception:
        logger.warning("cache unavailable; notification deduplicated by the database", exc_info=True)
        return True


class TellOfUse:
    """A caregiver or a support agent used the power the person gave: once a day per helper and
    record (seeing it in a list does not count); the access history says what exactly was done."""

    def wants(self, decided: Decided) -> bool:
        return (
            decided.record is not None
            and decided.actor is not None
            and decided.decision.allowed
            and decided.decision.basis in ACTING_FOR_BASES
            and decided.action != Action.RECORD_LIST
        )

    def heard(self, decided: Decided) -> None:
        record, actor = decided.record, decided.actor
        # wants() ruled None out, and heard() is only called after it said yes
        assert record is not None
        assert actor is not None
        key = f"acted_for:{actor.uuid}:{record.uuid}:{timezone.localdate().isoformat()}"
        if _first_time(key, 26 * 3600):
            notify_followers(record=record, event=ACTING_FOR_BASES[decided.decision.basis], dedup_key=key)


class FirstProfessionalAccess:
    """The person is told the first time a professional opens their record.

    Only openings count: the search that found the record (allowed, basis "none") and the record
    appearing in the professional's list come before the first opening.
    """

    def wants(self, decided: Decided) -> bool:
        return (
            decided.record is not None
            and decided.actor is not None
            and decided.decision.allowed
            and decided.action == Action.RECORD_VIEW
            and decided.decision.basis in FIRST_ACCESS_BASES
        )

    def heard(self, decided: Decided) -> None:
        from apps.access.history.services import allowed_entries_count

        record, professional = decided.record, decided.actor
        assert record is not None  # wants() ruled None out
        assert professional is not None
        key = f"first_access:{record.uuid}:{professional.uuid}"
        if not _first_time(key, 30 * 24 * 3600):
            return  # already looked at: every later opening is not the first
        earlier = allowed_entries_count(record_uuid=record.uuid, actor_uuid=professional.uuid, bases=FIRST_ACCESS_BASES)
        if earlier <= 1:  # the entry just written
            notify_followers(record=record, event="professional_first_access", dedup_key=key)


class BreakGlass:
    """A professional declared an emergency: the person is told at once."""

    def wants(self, decided: Decided) -> bool:
        resource = decided.resource
        return (
            decided.record is not None
            and decided.decision.allowed
            and decided.decision.basis == Basis.BREAK_GLASS
            and resource is not None
            and resource.type == "emergency"
            and resource.uuid is not None
        )

    def heard(self, decided: Decided) -> None:
        resource = decided.resource
        assert resource is not None  # wants() ruled None out
        notify_followers(record=decided.record, event="break_glass", dedup_key=f"break_glass:{resource.uuid}")


class AccessCodeUse:
    """A professional typed the person's code: the person is told it was used, and also when an
    ended code is typed again (a guess, or a code passed around)."""

    def wants(self, decided: Decided) -> bool:
        resource = decided.resource
        if decided.actor is None or resource is None or resource.type != "access_code" or resource.uuid is None:
            return False
        if decided.action == Action.RECORD_VIEW:
            return decided.record is not None and decided.decision.allowed
        return (
            decided.action == Action.ACCESS_CODE_USE
            and not decided.decision.allowed
            and decided.decision.reason_code == "code_expired"
            and decided.record_uuid is not None
        )

    def heard(self, decided: Decided) -> None:
        from apps.records.models import Record

        resource, professional = decided.resource, decided.actor
        assert resource is not None  # wants() ruled None out
        assert professional is not None
        code_uuid, professional_uuid = resource.uuid, professional.uuid
        if decided.action == Action.RECORD_VIEW:
            notify_followers(
                record=decided.record,
                event="access_code_used",
                dedup_key=f"access_code_used:{code_uuid}:{professional_uuid}",
            )
            return
        assert decided.record_uuid is not None  # wants() asks for it on a refused code
        record = Record.objects.filter(uuid=decided.record_uuid).first()
        if record is not None:
            notify_followers(
                record=record,
                event="access_code_refused",
                dedup_key=f"access_code_refused:{code_uuid}:{professional_uuid}",
            )
