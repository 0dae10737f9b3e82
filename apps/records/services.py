"""Writes on records. Each one is journaled through the access policy."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.access.policy import Action, authorize
from apps.accounts.models import Role, User
from apps.records.models import Guardianship, Record


def _identity_clean(record: Record) -> None:
    record.full_clean(exclude=["owner"])


@transaction.atomic
def record_create_own(
    *, user: User, family_name: str, given_names: str, birth_date: date, sex: str, ins: str = "", ins_system: str = ""
) -> Record:
    """A patient's own record, created with their account."""
    if Record.objects.filter(owner=user).exists():
        raise ValidationError(_("This account already has its own record."))
    record = Record(
        owner=user,
        family_name=family_name.strip(),
        given_names=given_names.strip(),
        birth_date=birth_date,
        sex=sex,
        ins=ins,
        ins_system=ins_system,
    )
    _identity_clean(record)
    record.save()
    authorize(actor=user, record=record, action=Action.RECORD_CREATE)
    return record


@transaction.atomic
def dependent_create(
    *, parent: User, family_name: str, given_names: str, birth_date: date, sex: str, ins: str = "", ins_system: str = ""
) -> Record:
    """A child's record, managed by the parent who creates it."""
    if parent.role != Role.PATIENT or not parent.is_active:
        raise PermissionDenied(_("Only a patient account can add a child's record."))
    record = Record(
        family_name=family_name.strip(),
        given_names=given_names.strip(),
        birth_date=birth_date,
        sex=sex,
        ins=ins,
        ins_system=ins_system,
    )
    _identity_clean(record)
    record.save()
    Guardianship.objects.create(guardian=parent, record=record)
    authorize(actor=parent, record=record, action=Action.RECORD_CREATE)
    return record


@transaction.atomic
def guardianship_end(*, guardianship: Guardianship) -> None:
    from django.utils import timezone

    Guardianship.objects.filter(pk=guardianship.pk, ended_at__isnull=True).update(ended_at=timezone.now())
