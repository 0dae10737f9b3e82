"""Personal directives: a trusted person, advance directives, organ donation, each change kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from apps.access.door import require
from apps.access.policy import Action
from apps.records.models import Record

if TYPE_CHECKING:
    from apps.accounts.models import User

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

    from apps.consents.directives.selectors import (
        DIRECTIVES_FIELDS,
        directives_documents,
        directives_resource,
        directives_snapshot,
    )
    from apps.consents.models import DirectivesChange, PersonalDirectives

    unknown = set(fields) - set(DIRECTIVES_FIELDS)
    if unknown:
        raise TypeError(f"not a directives field: {', '.join(sorted(unknown))}")
    decision = require(actor=actor, record=record, action=Action.PROFILE_EDIT, resource=directives_resource(record))
    document = fields.get("advance_directives_document")
    if document is not None and not directives_documents(actor=actor, record=record).filter(pk=document.pk).exists():
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
