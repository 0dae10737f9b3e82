"""The person's privacy choices about professionals, each a setting with history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from apps.consents.models import SettingChange, SettingKey
from apps.consents.services import setting_change

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.records.models import Record

TOGGLES = (SettingKey.PROFESSIONAL_ACCESS, SettingKey.EMERGENCY_ACCESS, SettingKey.RESEARCH_USE)


def _professional(user: User) -> None:
    if not getattr(user, "is_professional", False):
        raise ValueError(_("This person is not a health professional."))


def toggle_set(*, actor: User, record: Record, key: str, on: bool) -> SettingChange | None:
    if key not in TOGGLES:
        raise ValueError(f"not a toggle: {key}")
    return setting_change(actor=actor, record=record, key=key, after=on)


def professional_block(
    *, actor: User, record: Record, professional: User, blocked: bool = True
) -> SettingChange | None:
    _professional(professional)
    return setting_change(
        actor=actor,
        record=record,
        key=SettingKey.BLOCKED_PROFESSIONAL,
        after=blocked,
        subject=str(professional.uuid),
        subject_label=str(professional),
    )


def designated_doctor_set(*, actor: User, record: Record, professional: User | None) -> SettingChange | None:
    if professional is not None:
        _professional(professional)
    return setting_change(
        actor=actor,
        record=record,
        key=SettingKey.DESIGNATED_DOCTOR,
        after=str(professional.uuid) if professional else None,
        subject_label=str(professional) if professional else "",
    )
