from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.permissions import BasePermission

from apps.accounts.two_factor import has_two_factor

# The scope that lets a token use /api/v1/. Tokens for other doors (SMART on FHIR's
# patient/… scopes) do not carry it and are refused here.
API_SCOPE = "api"


class IsVerifiedUser(BasePermission):
    """Deny by default: an authenticated person who passed their second factor.

    An OAuth token is only issued through the authorisation page, which is behind
    login and the second factor, so it counts as verified when it carries the API
    scope; a web session must have been verified with a code.
    """

    message = "Authentication with two-step verification is required."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if isinstance(request.successful_authenticator, OAuth2Authentication):
            return request.auth is not None and request.auth.allow_scopes([API_SCOPE])
        if user.is_verified():
            return True
        return not (has_two_factor(user) or user.requires_two_factor)
