"""The delegation basis: a caregiver acts for the person, within the scopes given, until the end date."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone

from apps.access.policy import Action, Basis, Decision, Resource
from apps.delegations.models import Delegation, Scope

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.records.models import Record

# Which scope each action needs. Seeing that the record exists comes with any scope;
# delegating further is never in a delegation.
ACTION_SCOPES: dict[str, set[str]] = {
    Action.RECORD_LIST: set(Scope.values),
    Action.RECORD_VIEW: set(Scope.values),
    # A list shows the documents' titles: listing is reading ("add documents" alone lists nothing).
    Action.DOCUMENT_LIST: {Scope.READ_DOCUMENTS},
    Action.DOCUMENT_READ: {Scope.READ_DOCUMENTS},
    Action.DOCUMENT_UPLOAD: {Scope.UPLOAD_DOCUMENTS},
    Action.PROFILE_READ: {Scope.READ_PROFILE},
    Action.SETTINGS_READ: {Scope.MANAGE_SETTINGS},
    Action.SETTINGS_EDIT: {Scope.MANAGE_SETTINGS},
    Action.JOURNAL_READ: {Scope.READ_HISTORY},
}


class DelegationBasis:
    @staticmethod
    def scope_label(scope: str) -> str | None:
        """What the person calls this scope, for a refusal's reason (None: not one of ours)."""
        return str(Scope(scope).label) if scope in Scope.values else None

    def grant(
        self, actor: User, record: Record, action: str, resource: Resource | None, memo: dict[str, Any]
    ) -> Decision | None:
        if actor.pk is None:
            return None
        key = f"delegations:{actor.pk}"
        if key not in memo:
            # Every delegation in force counts: the caregiver holds what each of them gave.
            memo[key] = {}
            in_force = Delegation.objects.active().filter(delegate=actor).values_list("record_id", "scopes")
            for record_id, given in in_force:
                memo[key].setdefault(record_id, set()).update(given)
        scopes = memo[key].get(record.pk)
        if scopes is None:
            return None
        principal = record.owner
        needed = ACTION_SCOPES.get(action, set())
        if needed & scopes:
            return Decision(
                allowed=True,
                basis=Basis.DELEGATION,
                reason_code="delegation",
                on_behalf_of=principal,
                purpose="caregiving",
            )
        # An act no delegation can give is "not allowed", as for mandates (there is no scope to ask for).
        reason_code = f"scope_missing.{sorted(needed)[0]}" if needed else "not_allowed"
        return Decision(allowed=False, basis=Basis.NONE, reason_code=reason_code, on_behalf_of=principal)

    def reachable(self, actor: User) -> Q | None:
        now = timezone.now()
        return Q(
            delegations__delegate=actor,
            delegations__accepted_at__isnull=False,
            delegations__revoked_at__isnull=True,
        ) & (Q(delegations__expires_at__isnull=True) | Q(delegations__expires_at__gt=now))
