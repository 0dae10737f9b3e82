from __future__ import annotations

from typing import TYPE_CHECKING

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
    return list(notifications[:limit])
