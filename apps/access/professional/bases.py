"""How professionals get in (care relationship, designated doctor, access code, break-glass),
and the person's record-wide restrictions that apply on top (blocked, read only, access off)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone

from apps.access.policy import PROFESSIONAL_BASES, Action, Basis, Decision, Resource

if TYPE_CHECKING:
    from apps.access.actors import Actor
    from apps.accounts.models import User
    from apps.consents.services import PrivacyState
    from apps.records.models import Record

# What a professional may do on a record: read, nothing else.
PROFESSIONAL_ACTIONS = frozenset(
    {
        Action.RECORD_LIST,
        Action.RECORD_VIEW,
        Action.DOCUMENT_LIST,
        Action.DOCUMENT_READ,
        Action.PROFILE_READ,
        # The one write: keeping a minor's document from the parents (policy.ACTION_BASES).
        Action.DOCUMENT_CONFIDENTIAL,
    }
)


def privacy(record: Record, memo: dict[str, Any]) -> PrivacyState:
    from apps.consents.services import privacy_state, privacy_states

    key = f"privacy:{record.pk}"
    if key not in memo:
        pending = memo.get("privacy_prefetch")
        if pending:
            memo.update({f"privacy:{pk}": state for pk, state in privacy_states(record_ids=pending).items()})
            memo["privacy_prefetch"] = []
        if key not in memo:
            memo[key] = privacy_state(record=record)
    return memo[key]


def _ids(memo: dict[str, Any], key: str, loader: Callable[[], Iterable[int]]) -> set[int]:
    if key not in memo:
        memo[key] = set(loader())
    return memo[key]


class _ProfessionalBasis:
    basis: str = ""

    def prefetch(self, actor: User, records: Sequence[Record], memo: dict[str, Any]) -> None:
        memo["privacy_prefetch"] = [r.pk for r in records if f"privacy:{r.pk}" not in memo]

    def _granted(self) -> Decision:
        return Decision(allowed=True, basis=self.basis, reason_code=self.basis, purpose="care")


class CareRelationshipBasis(_ProfessionalBasis):
    basis = Basis.CARE_RELATIONSHIP

    def grant(
        self, actor: Actor, record: Record, action: str, resource: Resource | None, memo: dict[str, Any]
    ) -> Decision | None:
        from apps.access.models import CareRelationship

        if not getattr(actor, "is_professional", False):
            return None
        ids = _ids(
            memo,
            f"care:{actor.pk}",
            lambda: CareRelationship.objects.active().filter(professional=actor.pk).values_list("record_id", flat=True),
        )
        return self._granted() if record.pk in ids else None

    @staticmethod
    def attested(actor: User, record: Record) -> dict[str, Any]:
        """A memo in which ``actor`` has attested care for ``record``: to decide before writing it."""
        return {f"care:{actor.pk}": {record.pk}}

    def reachable(self, actor: User) -> Q | None:
        if not getattr(actor, "is_professional", False):
            return None
        now = timezone.now()
        return Q(care_relationships__professional=actor, care_relationships__revoked_at__isnull=True) & (
            Q(care_relationships__expires_at__isnull=True) | Q(care_relationships__expires_at__gt=now)
        )


class DesignatedDoctorBasis(_ProfessionalBasis):
    basis = Basis.DESIGNATED_DOCTOR

    def grant(
        self, actor: Actor, record: Record, action: str, resource: Resource | None, memo: dict[str, Any]
    ) -> Decision | None:
        if not getattr(actor, "is_professional", False):
            return None
        return self._granted() if privacy(record, memo).designated_doctor == str(actor.uuid) else None

    def reachable(self, actor: User) -> Q | None:
        if not getattr(actor, "is_professional", False):
            return None
        # A superset (any record that ever named them); each is then decided exactly.
        return Q(setting_changes__key="designated_doctor", setting_changes__after=str(actor.uuid))


class AccessCodeBasis(_ProfessionalBasis):
    basis = Basis.ACCESS_CODE

    def grant(
        self, actor: Actor, record: Record, action: str, resource: Resource | None, memo: dict[str, Any]
    ) -> Decision | None:
        from apps.access.models import AccessCode

        if not getattr(actor, "is_professional", False):
            return None
        ids = _ids(
            memo,
            f"codes:{actor.pk}",
            lambda: AccessCode.objects.active().filter(uses__professional=actor.pk).values_list("record_id", flat=True),
        )
        return self._granted() if record.pk in ids else None

    def reachable(self, actor: User) -> Q | None:
        if not getattr(actor, "is_professional", False):
            return None
        return Q(
            access_codes__uses__professional=actor,
            access_codes__revoked_at__isnull=True,
            access_codes__expires_at__gt=timezone.now(),
        )


class BreakGlassBasis(_ProfessionalBasis):
    basis = Basis.BREAK_GLASS

    def grant(
        self, actor: Actor, record: Record, action: str, resource: Resource | None, memo: dict[str, Any]
    ) -> Decision | None:
        from apps.access.models import EmergencyAccess

        if not getattr(actor, "is_professional", False):
            return None
        ids = _ids(
            memo,
            f"emergency:{actor.pk}",
            lambda: EmergencyAccess.objects.active().filter(professional=actor.pk).values_list("record_id", flat=True),
        )
        if record.pk not in ids:
            return None
        if not privacy(record, memo).emergency_access:
            # Said to the professional like "nothing here"; the person's history names it.
            return _denied("emergency_access_off")
        return Decision(allowed=True, basis=self.basis, reason_code=self.basis, purpose="emergency")

    @staticmethod
    def declared(actor: User, record: Record) -> dict[str, Any]:
        """A memo in which ``actor`` has declared an emergency on ``record``: to decide whether the
        glass would break before anything is written (a refused declaration leaves no row to
        open later, e.g. when the person turns emergency access back on)."""
        return {f"emergency:{actor.pk}": {record.pk}}

    def reachable(self, actor: User) -> Q | None:
        if not getattr(actor, "is_professional", False):
            return None
        return Q(
            emergency_accesses__professional=actor,
            emergency_accesses__revoked_at__isnull=True,
            emergency_accesses__expires_at__gt=timezone.now(),
        )


def _denied(code: str) -> Decision:
    return Decision(allowed=False, basis=Basis.NONE, reason_code=code)


class PersonsRestrictions:
    """The person's record-wide choices, applied to every professional basis (never to the person
    or their proxies). Document-level rules are in apps/access/restrictions.py."""

    def restrict(
        self,
        actor: User,
        record: Record,
        action: str,
        resource: Resource | None,
        decision: Decision,
        memo: dict[str, Any],
    ) -> Decision | None:
        if decision.basis not in PROFESSIONAL_BASES:
            return None
        state = privacy(record, memo)
        # A blocked professional is refused on every basis, emergencies included: the person
        # chose that this professional never opens their record (other professionals still can).
        if str(actor.uuid) in state.blocked:
            return _denied("blocked")
        if action not in PROFESSIONAL_ACTIONS:
            return _denied("professional_read_only")
        if not state.professional_access and decision.basis in (Basis.CARE_RELATIONSHIP, Basis.DESIGNATED_DOCTOR):
            return _denied("professional_access_off")
        return None

    def scope(self, actor: User, decision: Decision) -> Q:
        # These refuse the decision itself: an allowed one keeps every document in its lists.
        return Q()
