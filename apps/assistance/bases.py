"""The mandate basis: a support agent acts for the person, within the mandate's scopes, while it is active.

Only the agent named in the mandate, still in the mandate's structure, with a second factor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone

from apps.access.policy import Action, Basis, Decision, Resource
from apps.assistance.models import Mandate, MandateScope

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.records.models import Record

# Which scope each action needs. Seeing the person's identity comes with any scope;
# account help adds the account actions (activation letter, new password, second factor),
# never medical content. A scope grants exactly what it names: no scope reads the medical
# profile as such (see RESOURCE_SCOPES for the one exception, the summary PDF).
ACTION_SCOPES: dict[str, set[str]] = {
    Action.RECORD_LIST: set(MandateScope.values),
    Action.RECORD_VIEW: set(MandateScope.values),
    Action.DOCUMENT_UPLOAD: {MandateScope.UPLOAD_DOCUMENTS},
    Action.DOCUMENT_LIST: {MandateScope.READ_DOCUMENTS},
    Action.DOCUMENT_READ: {MandateScope.READ_DOCUMENTS},
    Action.ACCOUNT_HELP: {MandateScope.ACCOUNT_HELP},
}

# "Print the health summary" reads the profile only to make the summary PDF (resource type of
# apps.summaries.exports): not the profile pages, not the API's facts, not the documents.
SUMMARY_PDF = "summary_pdf"
RESOURCE_SCOPES: dict[tuple[str, str], set[str]] = {
    (Action.PROFILE_READ, SUMMARY_PDF): {MandateScope.PRINT_SUMMARY},
}


def scopes_needed(action: str, resource: Resource | None = None) -> set[str]:
    """The scopes of which one opens ``action`` on ``resource`` (empty: no mandate opens it)."""
    needed = set(ACTION_SCOPES.get(action, set()))
    if resource is not None:
        needed |= RESOURCE_SCOPES.get((action, resource.type), set())
    return needed


def _may_hold_mandates(actor: User, memo: dict[str, Any]) -> bool:
    from apps.accounts.two_factor import has_two_factor

    key = f"mandate_agent_ok:{actor.pk}"
    if key not in memo:
        memo[key] = bool(
            getattr(actor, "is_support_agent", False) and actor.support_structure_id and has_two_factor(actor)
        )
    return memo[key]


class MandateBasis:
    @staticmethod
    def scope_label(scope: str) -> str | None:
        """What the person calls this scope, for a refusal's reason (None: not one of ours)."""
        return str(MandateScope(scope).label) if scope in MandateScope.values else None

    def grant(
        self, actor: User, record: Record, action: str, resource: Resource | None, memo: dict[str, Any]
    ) -> Decision | None:
        if actor.pk is None or not _may_hold_mandates(actor, memo):
            return None
        key = f"mandates:{actor.pk}"
        if key not in memo:
            memo[key] = {}
            active = Mandate.objects.active().filter(agent=actor, structure_id=actor.support_structure_id)
            for mandate in active.order_by("created_at"):
                memo[key].setdefault(mandate.record_id, set()).update(mandate.scopes)
        scopes = memo[key].get(record.pk)
        if scopes is None:
            return None
        principal = record.owner if record.owner_id else None
        needed = scopes_needed(action, resource)
        if needed & scopes:
            return Decision(
                allowed=True, basis=Basis.MANDATE, reason_code="mandate", on_behalf_of=principal, purpose="assistance"
            )
        reason_code = f"scope_missing.{sorted(needed)[0]}" if needed else "not_allowed"
        return Decision(allowed=False, basis=Basis.NONE, reason_code=reason_code, on_behalf_of=principal)

    def reachable(self, actor: User) -> Q | None:
        if not getattr(actor, "is_support_agent", False) or not _may_hold_mandates(actor, {}):
            return None
        return Q(
            mandates__agent=actor,
            mandates__structure_id=actor.support_structure_id,
            mandates__confirmed_at__isnull=False,
            mandates__revoked_at__isnull=True,
            mandates__expires_at__gt=timezone.now(),
        )


class StructureManagerBasis:
    """A manager of a support structure acts on that structure's mandates, and on nothing else:
    stops one (``Action.DELEGATION_MANAGE`` on the mandate) or countersigns a paper one
    (``Action.MANDATE_COUNTERSIGN``, which only this basis may do: policy.ACTION_BASES)."""

    basis = Basis.STRUCTURE_MANAGER
    ACTIONS = frozenset({Action.DELEGATION_MANAGE, Action.MANDATE_COUNTERSIGN})

    def grant(
        self, actor: User, record: Record, action: str, resource: Resource | None, memo: dict[str, Any]
    ) -> Decision | None:
        from apps.assistance.models import StructureManager

        if actor.pk is None or action not in self.ACTIONS or resource is None or resource.type != "mandate":
            return None
        if resource.uuid is None:  # a mandate not yet made has no manager
            return None
        key = f"managed_structures:{actor.pk}"
        if key not in memo:
            memo[key] = set(StructureManager.objects.filter(user=actor).values_list("structure_id", flat=True))
        if not memo[key]:
            return None
        managed = Mandate.objects.filter(uuid=resource.uuid, record_id=record.pk, structure_id__in=memo[key]).exists()
        if not managed:
            return None
        return Decision(
            allowed=True, basis=Basis.STRUCTURE_MANAGER, reason_code="structure_manager", purpose="assistance"
        )

    def reachable(self, actor: User) -> Q | None:
        return None  # a manager opens no record: they act on mandates, never on record content
