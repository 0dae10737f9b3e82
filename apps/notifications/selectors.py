from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Q, QuerySet

from apps.notifications.models import Notification

if TYPE_CHECKING:
    from apps.accounts.models import User

PAGE_SIZE = 50


def notifications_for(
    *, user: User, before_uuid: str = "", unread_only: bool = False, limit: int = PAGE_SIZE
) -> list[Notification]:
    """The person's own notifications, newest first, keyset-paged after ``before_uuid``."""
    notifications: QuerySet[Notification] = Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    if before_uuid:
        anchor = Notification.objects.filter(recipient=user, uuid=before_uuid).values("created_at", "id").first()
        if anchor:
            notifications = notifications.filter(
                Q(created_at__lt=anchor["created_at"]) | Q(created_at=anchor["created_at"], id__lt=anchor["id"])
            )
    items = list(notifications[:limit])
    _hide_documents_not_shown(user, items)
    return items


def _hide_documents_not_shown(user: User, items: list[Notification]) -> None:
    """A notice names a document (its id, its link) only while the person may still see it:
    a document kept from the parents after the notice was written is not named to them.

    Decided without a journal entry, like the live pushes: the notice shows no more than the
    record's list would (an id), and the person reading their own notices reads no record."""
    from apps.access.door import fetch
    from apps.access.policy import Action
    from apps.access.refusals import RecordUnavailable
    from apps.records.models import Record
    from apps.records.selectors import document_uuids_shown_to

    by_record: dict[UUID, list[Notification]] = {}
    for item in items:
        if item.document_uuid and item.record_uuid:
            by_record.setdefault(item.record_uuid, []).append(item)
    for record_uuid, named in by_record.items():
        try:
            record = fetch(user, Record, record_uuid, Action.DOCUMENT_LIST, journal=False)
        except RecordUnavailable:
            shown: frozenset[UUID] = frozenset()
        else:
            shown = document_uuids_shown_to(actor=user, record=record, named=[item.document_uuid for item in named])
        for item in named:
            if item.document_uuid not in shown:
                item.document_uuid = None
