"""A person's signed-in apps and devices: one per sign-in (a refresh token family), ended one by one."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Min, OuterRef, Subquery
from oauth2_provider.models import get_refresh_token_model
from oauth2_provider.scopes import get_scopes_backend

from apps.accounts.models import User

logger = logging.getLogger("healthspace.security")


@dataclass(frozen=True)
class SignIn:
    id: uuid.UUID
    application: str
    signed_in_at: datetime
    last_used_at: datetime
    scopes: list[str]


def sign_ins_for(*, user: User) -> list[SignIn]:
    """Every app or device that can still act for ``user``, most recently used first."""
    RefreshToken = get_refresh_token_model()
    first_created = (
        RefreshToken.objects.filter(token_family=OuterRef("token_family"))
        .values("token_family")
        .annotate(first=Min("created"))
        .values("first")
    )
    live = (
        RefreshToken.objects.filter(user=user, revoked__isnull=True, access_token__isnull=False)
        .select_related("application", "access_token")
        .annotate(signed_in_at=Subquery(first_created))
    )
    all_scopes = get_scopes_backend().get_all_scopes()
    sign_ins = [
        SignIn(
            id=token.token_family,
            application=token.application.name if token.application else "",
            signed_in_at=token.signed_in_at or token.created,
            last_used_at=token.access_token.updated,
            scopes=[str(all_scopes.get(scope, scope)) for scope in token.access_token.scope.split()],
        )
        for token in live
        if token.token_family
    ]
    return sorted(sign_ins, key=lambda sign_in: sign_in.last_used_at, reverse=True)


@transaction.atomic
def sign_in_end(*, user: User, sign_in_id: uuid.UUID) -> bool:
    """End one sign-in of ``user`` (its refresh token and access token); False if there is none."""
    RefreshToken = get_refresh_token_model()
    if not RefreshToken.objects.filter(user=user, token_family=sign_in_id, revoked__isnull=True).exists():
        return False
    RefreshToken.revoke_family(sign_in_id)
    logger.info("api sign-in ended", extra={"user_id": user.pk, "reason": "on_request"})
    return True
