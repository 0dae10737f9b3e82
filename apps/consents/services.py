"""Privacy settings: read the current state (derived from history) and change it (a new row)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction

from apps.access.policy import Action, Resource, authorize
from apps.consents.models import SettingChange, SettingKey
from apps.records.models import Record
from apps.records.selectors import RecordUnavailable

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
    masked: frozenset[str] = field(default_factory=frozenset)  # documents' UUIDs


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
        masked=frozenset(s for (k, s), v in current.items() if k == SettingKey.MASKED_DOCUMENT and v),
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
    decision = authorize(
        actor=actor,
        record=record,
        action=Action.SETTINGS_EDIT,
        resource=Resource(f"setting.{key}", None, subject_label),
    )
    if not decision.allowed:
        raise RecordUnavailable(decision)
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
    decision = authorize(actor=actor, record=record, action=Action.SETTINGS_READ)
    if not decision.allowed:
        raise RecordUnavailable(decision)
    return list(SettingChange.objects.filter(record=record).select_related("changed_by")[:limit])


if TYPE_CHECKING:
    from apps.consents.models import PersonalDirectives


def directives_update(*, actor: User, record: Record, **fields: Any) -> PersonalDirectives:
    """Change the personal directives of a record (trusted person, advance directives, organ donation).

    Only the fields given change. Each change writes a DirectivesChange row in the same
    transaction; nothing is written when nothing changes. Raises RecordUnavailable when
    the actor may not edit, ValidationError on a bad value (nothing is saved then).
    """
    from django.core.exceptions import ValidationError
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from apps.consents.models import DirectivesChange, PersonalDirectives
    from apps.consents.selectors import (
        DIRECTIVES_FIELDS,
        directives_documents,
        directives_resource,
        directives_snapshot,
    )

    unknown = set(fields) - set(DIRECTIVES_FIELDS)
    if unknown:
        raise TypeError(f"not a directives field: {', '.join(sorted(unknown))}")
    decision = authorize(actor=actor, record=record, action=Action.PROFILE_EDIT, resource=directives_resource(record))
    if not decision.allowed:
        raise RecordUnavailable(decision)
    document = fields.get("advance_directives_document")
    if document is not None and not directives_documents(record=record).filter(pk=document.pk).exists():
        raise ValidationError(
            {"advance_directives_document": _("Choose a report or another document of this same record.")}
        )
    with transaction.atomic():
        Record.objects.select_for_update().filter(pk=record.pk).first()  # serialise writers per record
        directives = PersonalDirectives.objects.filter(record=record).first() or PersonalDirectives(record=record)
        before = directives_snapshot(directives)
        for name, value in fields.items():
            setattr(directives, name, "" if value is None and name != "advance_directives_document" else value)
        directives.full_clean(exclude=["record", "updated_by"])
        after = directives_snapshot(directives)
        if after == before:
            return directives
        directives.updated_at = timezone.now()
        directives.updated_by = actor
        directives.save()
        DirectivesChange.objects.create(
            record=record,
            before=before,
            after=after,
            changed_by=actor,
            through_basis=decision.basis,
            changed_at=directives.updated_at,
        )
    return directives
