"""django-oauth-toolkit's validator, with what a health space adds.

Tokens are hashed at rest by DOT itself (COMPLIANT_BCP_RFC9700_TOKEN_STORAGE): every lookup
(bearer, refresh, revocation, introspection) goes through ``token_checksum``. We add:
a token of a deactivated person is refused, and "last used" is kept for the person's list of
signed-in apps (written at most once a minute per token).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator as BaseOAuth2Validator

LAST_USED_RESOLUTION = timedelta(minutes=1)


class OAuth2Validator(BaseOAuth2Validator):
    def validate_bearer_token(self, token, scopes, request) -> bool:
        if not super().validate_bearer_token(token, scopes, request):
            return False
        access_token = request.access_token
        if access_token.user is not None and not access_token.user.is_active:
            return False
        now = timezone.now()
        if access_token.updated < now - LAST_USED_RESOLUTION:
            get_access_token_model().objects.filter(pk=access_token.pk).update(updated=now)
        return True

    def validate_user(self, username, password, client, request, *args, **kwargs) -> bool:
        # The password grant is off (RFC 9700 gate); never check a password here either.
        return False
