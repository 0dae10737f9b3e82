"""The bases on which access can be granted. Each is listed in settings.ACCESS_POLICY_BASES."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from apps.access.policy import Action, Basis, Decision, Resource

if TYPE_CHECKING:
    from apps.access.actors import Actor
    from apps.accounts.models import User
    from apps.records.models import Record


class Owner:
    """The person the record is about may do everything on it."""

    def grant(
        self, actor: User, record: Record, action: str, resource: Resource | None, memo: dict[str, Any]
    ) -> Decision | None:
        if actor.pk is not None and record.owner_id == actor.pk:
            return Decision(allowed=True, basis=Basis.OWNER, reason_code="owner", purpose="self")
        return None

    def reachable(self, actor: User) -> Q:
        return Q(owner=actor)


def guarded_record_ids(actor: Actor, memo: dict[str, Any]) -> set[int]:
    """The records of the children ``actor`` manages as a parent (loaded once per batch and actor)."""
    from apps.records.models import Guardianship

    key = f"guarded_record_ids:{actor.pk}"  # a memo may serve several actors
    if key not in memo:
        memo[key] = set(Guardianship.objects.active().filter(guardian=actor.pk).values_list("record_id", flat=True))
    return memo[key]


class ParentOfDependent:
    """A parent with an active guardianship manages the child's record."""

    def grant(
        self, actor: User, record: Record, action: str, resource: Resource | None, memo: dict[str, Any]
    ) -> Decision | None:
        if actor.pk is None:  # not a person (e.g. the import service)
            return None
        if record.pk in guarded_record_ids(actor, memo):
            # A minor's confidential documents: restrictions.ConfidentialFromParents.
            return Decision(allowed=True, basis=Basis.PARENT, reason_code="parent", purpose="parental")
        return None

    def reachable(self, actor: User) -> Q:
        return Q(guardianships__guardian=actor, guardianships__ended_at__isnull=True)


class OperatorImport:
    """An operator's bulk import (moving patients from another system) may add documents, nothing else.

    It never reads: the journal shows every document it added, and on whose instruction.
    """

    def grant(
        self, actor: User, record: Record, action: str, resource: Resource | None, memo: dict[str, Any]
    ) -> Decision | None:
        from apps.access.actors import ImportService

        if isinstance(actor, ImportService) and action in (Action.DOCUMENT_UPLOAD, Action.RECORD_CREATE):
            return Decision(allowed=True, basis=Basis.IMPORT, reason_code="import", purpose="migration")
        return None

    def reachable(self, actor: User) -> Q | None:
        return None
