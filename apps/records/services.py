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


def document_keys_rewrap(*, dry_run: bool = False) -> tuple[int, int]:
    """Re-wrap the data key of every stored blob (documents and previews) under the active master key.

    The content is not re-encrypted, only the small wrapped key in each blob's header: no content
    is read, so no access decision. Returns (re-wrapped or to re-wrap, already under the key)."""
    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from apps.records import crypto
    from apps.records.models import Document

    active = settings.DOCUMENT_ACTIVE_KEY_ID
    names = Document.objects.values_list("blob_name", "preview_blob_name")
    done = already = 0
    for blob_name, preview_name in names.iterator():
        for name in (blob_name, preview_name):
            if not name:
                continue
            with default_storage.open(name, "rb") as handle:
                blob = handle.read()
            if crypto.blob_key_id(blob=blob) == active:
                already += 1
                continue
            if not dry_run:
                # Same name, new header: delete then save (storages never overwrite silently).
                default_storage.delete(name)
                default_storage.save(name, ContentFile(crypto.rewrap(blob=blob)))
            done += 1
    return done, already
