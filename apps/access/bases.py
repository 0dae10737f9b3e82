"""The bases on which access can be granted. Each is listed in settings.ACCESS_POLICY_BASES."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from apps.access.policy import Action, Basis, Decision, Resource

if TYPE_CHECKING:
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


class ParentOfDependent:
    """A parent with an active guardianship manages the child's record."""

    def grant(
        self, actor: User, record: Record, action: str, resource: Resource | None, memo: dict[str, Any]
    ) -> Decision | None:
        from apps.records.models import Guardianship

        if actor.pk is None:  # not a person (e.g. the import service)
            return None
        if "guarded_record_ids" not in memo:
            memo["guarded_record_ids"] = set(
                Guardianship.objects.active().filter(guardian=actor).values_list("record_id", flat=True)
            )
        if record.pk in memo["guarded_record_ids"]:
            if resource is not None and resource.type == "document" and resource.confidential:
                # A minor's confidential care is between the minor and the professionals.
                return Decision(allowed=False, basis=Basis.NONE, reason_code="confidential_from_parents")
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
