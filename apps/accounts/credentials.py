"""A person's API credentials (OAuth 2.0 access and refresh tokens), and ending them all at once.

Called when something that vouched for the tokens changes: the password, the second
factor, a letter reset, a dispute, or the person asking for it. Reasons used:
"password_changed", "password_reset", "second_factor_changed", "letter_reset", "disputed",
"on_request".
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User

logger = logging.getLogger("healthspace.security")


@transaction.atomic
def credentials_revoke_all(*, user: User, reason: str) -> int:
    """Revoke every OAuth access and refresh token of ``user`` (and pending codes); return how many.

    The person is told in their notification centre (and by e-mail) when a token was ended,
    unless they ended them themselves.
    """
    from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

    now = timezone.now()
    refresh_tokens = get_refresh_token_model().objects.filter(user=user, revoked__isnull=True)
    refreshed = refresh_tokens.update(revoked=now, updated=now, access_token=None)
    access_tokens = get_access_token_model().objects.filter(user=user)
    live_access = access_tokens.filter(expires__gt=now).count()
    access_tokens.delete()
    get_grant_model().objects.filter(user=user).delete()
    count = refreshed + live_access
    if count:
        logger.info("api credentials revoked", extra={"user_id": user.pk, "reason": reason, "count": count})
        if reason != "on_request":
            _notify_signed_out(user=user, reason=reason)
    return count


def _notify_signed_out(*, user: User, reason: str) -> None:
    from apps.notifications.models import NotificationEvent
    from apps.notifications.services import notify

    notify(
        recipient=user,
        event=NotificationEvent.APPS_SIGNED_OUT,
        dedup_key=f"apps_signed_out:{uuid.uuid4()}",
        params={"reason": reason},
    )
