"""Reads of records, always for an actor and through the access policy."""

from __future__ import annotations

from uuid import UUID

from django.db import models
from django.http import Http404

from apps.access.policy import (
    Action,
    Decision,
    authorize,
    authorize_many,
    journal_missing_record,
    reachable_record_filter,
)
from apps.accounts.models import User
from apps.records.models import Record


class RecordUnavailable(Http404):
    """Missing and forbidden look the same to the caller (and to a prober)."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


def records_for(*, actor: User) -> list[Record]:
    """The records the actor may open, each listing journaled."""
    condition = reachable_record_filter(actor=actor)
    if condition is None:
        return []
    candidates = list(Record.objects.filter(condition).distinct().order_by("birth_date", "pk"))
    # Candidates the actor did not ask for (a blocked professional's old care relationship)
    # are decided but only the records actually listed are journaled: a refusal the
    # person never attempted would only add noise to the patient's history.
    return [
        record
        for record, decision in authorize_many(
            actor=actor, records=candidates, action=Action.RECORD_LIST, journal_denials=False
        )
        if decision.allowed
    ]


def record_get_for(
    *, actor: User, record_uuid: UUID | str, action: str = Action.RECORD_VIEW
) -> tuple[Record, Decision]:
    """Fetch and check in one step; raises RecordUnavailable (a 404) when either fails."""
    record = Record.objects.filter(uuid=record_uuid).first()
    if record is None:
        raise RecordUnavailable(journal_missing_record(actor=actor, record_uuid=_as_uuid(record_uuid), action=action))
    decision = authorize(actor=actor, record=record, action=action)
    if not decision.allowed:
        raise RecordUnavailable(decision)
    return record, decision


def _as_uuid(value: UUID | str) -> UUID | None:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        return None


def record_followers(*, record: Record) -> list[User]:
    """Who is told about what happens in a record: its owner and the parents managing it."""
    from apps.accounts.models import User as UserModel

    followers = UserModel.objects.filter(
        models.Q(own_record=record) | models.Q(guardianships__record=record, guardianships__ended_at__isnull=True),
        is_active=True,
    ).distinct()
    return list(followers)
