from django.http import HttpRequest

from apps.notifications.services import unread_count


def unread_notifications(request: HttpRequest) -> dict[str, object]:
    """The header's count: one COUNT query, only for logged-in people."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": lambda: unread_count(user=user)}
