"""The rules that keep a document from someone a basis let in, each in two shapes.

Every rule listed in settings.ACCESS_POLICY_RESTRICTIONS answers for one object
(``restrict``: a denial, or None) when ``decide`` checks a granted decision, and for a
list (``scope``: a filter on Document) when ``document_scope`` builds what a list shows.
Both shapes sit side by side in one class, so a rule cannot say one thing for a document
and another for the lists it appears in (tests/access/test_visibility_shapes.py checks
that they agree). Record-wide rules (a blocked professional...) refuse the decision
itself, so their scope leaves every document in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

from django.db.models import Q

from apps.access.bases import guarded_record_ids
from apps.access.matrix import categories_for
from apps.access.policy import MEDICAL_ACTIONS, PROFESSIONAL_BASES, Basis, Decision, Resource

if TYPE_CHECKING:
    from apps.access.actors import Actor
    from apps.accounts.models import User
    from apps.records.models import Record


class PolicyRestriction(Protocol):
    def restrict(
        self,
        actor: User,
        record: Record,
        action: str,
        resource: Resource | None,
        decision: Decision,
        memo: dict[str, Any],
    ) -> Decision | None:
        """A denial when this rule keeps ``resource`` (or the whole record) from the actor, else None."""

    def scope(self, actor: User, decision: Decision) -> Q:
        """The documents this rule leaves in a list, for an allowed decision (Q(): all of them)."""


def denied(code: str) -> Decision:
    return Decision(allowed=False, basis=Basis.NONE, reason_code=code)


def _is_document(resource: Resource | None) -> TypeGuard[Resource]:
    return resource is not None and resource.type == "document"


class ConfidentialFromParents:
    """A minor's confidential care is between the minor and the professionals: never the parents',
    whatever else a parent is on the child's record (a caregiver, a professional...), nor of those
    who act on a record the parents manage (a caregiver or a support agent they chose)."""

    def restrict(
        self,
        actor: Actor,
        record: Record,
        action: str,
        resource: Resource | None,
        decision: Decision,
        memo: dict[str, Any],
    ) -> Decision | None:
        if not (_is_document(resource) and resource.confidential) or decision.basis == Basis.OWNER:
            return None
        if decision.basis in PROFESSIONAL_BASES:
            kept = record.pk in guarded_record_ids(actor, memo)  # a professional who is the child's parent
        else:
            kept = decision.basis == Basis.PARENT or _managed_by_parents(record, memo)
        return denied("confidential_from_parents") if kept else None

    def scope(self, actor: User, decision: Decision) -> Q:
        from apps.records.models import Guardianship

        if decision.basis == Basis.OWNER:
            return Q()
        if decision.basis == Basis.PARENT:
            return Q(confidential_from_parents=False)
        guardianships = Guardianship.objects.active()
        if decision.basis in PROFESSIONAL_BASES:
            guardianships = guardianships.filter(guardian=actor.pk)
        return ~Q(confidential_from_parents=True, record__in=guardianships.values("record_id"))


def _managed_by_parents(record: Record, memo: dict[str, Any]) -> bool:
    from apps.records.models import Guardianship

    key = f"managed_by_parents:{record.pk}"
    if key not in memo:
        memo[key] = Guardianship.objects.active().filter(record=record.pk).exists()
    return memo[key]


class MaskedFromProfessionals:
    """A document the person hid is kept from professionals, except their designated doctor."""

    @staticmethod
    def _applies(decision: Decision) -> bool:
        return decision.basis in PROFESSIONAL_BASES and decision.basis != Basis.DESIGNATED_DOCTOR

    def restrict(
        self,
        actor: Actor,
        record: Record,
        action: str,
        resource: Resource | None,
        decision: Decision,
        memo: dict[str, Any],
    ) -> Decision | None:
        if self._applies(decision) and action in MEDICAL_ACTIONS and _is_document(resource) and resource.masked:
            return denied("masked")
        return None

    def scope(self, actor: User, decision: Decision) -> Q:
        return Q(masked=False) if self._applies(decision) else Q()


class ProfessionMatrix:
    """A professional sees the categories their profession needs (settings.PROFESSION_DOCUMENT_MATRIX)."""

    def restrict(
        self,
        actor: Actor,
        record: Record,
        action: str,
        resource: Resource | None,
        decision: Decision,
        memo: dict[str, Any],
    ) -> Decision | None:
        # Any categorised resource (a document, the personal directives...) follows the matrix.
        if (
            decision.basis in PROFESSIONAL_BASES
            and action in MEDICAL_ACTIONS
            and resource is not None
            and resource.category
            and resource.category not in categories_for(actor.profession)
        ):
            return denied("profession_matrix")
        return None

    def scope(self, actor: User, decision: Decision) -> Q:
        if decision.basis not in PROFESSIONAL_BASES:
            return Q()
        return Q(category__in=sorted(categories_for(actor.profession)))
