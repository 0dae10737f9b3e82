"""Privacy settings: read the current state (derived from history) and change it (a new row)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction

from apps.access.door import require
from apps.access.policy import Action, Resource
from apps.consents.models import SettingChange, SettingKey
from apps.records.models import Record

if TYPE_CHECKING:
    from apps.accounts.models import User

DEFAULTS: dict[str, Any] = {
    SettingKey.PROFESSIONAL_ACCESS: True,
    SettingKey.EMERGENCY_ACCESS: True,
    SettingKey.RESEARCH_USE: True,
    SettingKey.DESIGNATED_DOCTOR: None,
}


@dataclass(frozen=True)
class PrivacyState:
    professional_access: bool = True
    emergency_access: bool = True
    research_use: bool = True
    designated_doctor: str | None = None  # the professional's UUID
    blocked: frozenset[str] = field(default_factory=frozenset)  # professionals' UUIDs


def _current(changes: list[SettingChange]) -> dict[tuple[str, str], Any]:
    state: dict[tuple[str, str], Any] = {}
    for change in changes:  # oldest first: the latest change wins
        state[(change.key, change.subject)] = change.after
    return state


def privacy_states(*, record_ids: list[int]) -> dict[int, PrivacyState]:
    """The current settings of several records, in one query."""
    changes: dict[int, list[SettingChange]] = {pk: [] for pk in record_ids}
    for change in SettingChange.objects.filter(record_id__in=record_ids).order_by("changed_at", "id"):
        changes[change.record_id].append(change)
    return {pk: _state(rows) for pk, rows in changes.items()}


def privacy_state(*, record: Record) -> PrivacyState:
    return privacy_states(record_ids=[record.pk])[record.pk]


def _state(changes: list[SettingChange]) -> PrivacyState:
    current = _current(changes)

    def value(key: str) -> Any:
        return current.get((key, ""), DEFAULTS[key])

    return PrivacyState(
        professional_access=bool(value(SettingKey.PROFESSIONAL_ACCESS)),
        emergency_access=bool(value(SettingKey.EMERGENCY_ACCESS)),
        research_use=bool(value(SettingKey.RESEARCH_USE)),
        designated_doctor=value(SettingKey.DESIGNATED_DOCTOR),
        blocked=frozenset(s for (k, s), v in current.items() if k == SettingKey.BLOCKED_PROFESSIONAL and v),
    )


def setting_change(
    *,
    actor: User,
    record: Record,
    key: str,
    after: Any,
    subject: str = "",
    subject_label: str = "",
    then: Callable[[], object] | None = None,
) -> SettingChange | None:
    """Change one setting. Two tabs changing it: the last write wins, both are in the history.

    Returns None when the value is already the one asked (no empty history row).
    """
    decision = require(
        actor=actor,
        record=record,
        action=Action.SETTINGS_EDIT,
        resource=Resource(f"setting.{key}", None, subject_label),
    )
    with transaction.atomic():
        Record.objects.select_for_update().filter(pk=record.pk).first()  # serialise writers per record
        previous = (
            SettingChange.objects.filter(record=record, key=key, subject=subject).order_by("-changed_at", "-id").first()
        )
        before = previous.after if previous else (DEFAULTS.get(key) if not subject else False)
        if before == after:
            return None
        if then is not None:
            then()  # the state this setting mirrors elsewhere changes in the same transaction
        return SettingChange.objects.create(
            record=record,
            key=key,
            subject=subject,
            subject_label=subject_label[:300],
            before=before,
            after=after,
            changed_by=actor,
            through_basis=decision.basis,
        )


def setting_history(*, actor: User, record: Record, limit: int = 200) -> list[SettingChange]:
    require(actor=actor, record=record, action=Action.SETTINGS_READ)
    return list(SettingChange.objects.filter(record=record).select_related("changed_by")[:limit])
