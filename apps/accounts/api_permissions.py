from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import BasePermission

from apps.accounts.two_factor import has_two_factor


class IsVerifiedUser(BasePermission):
    """Deny by default: an authenticated person who passed their second factor.

    A token is only issued after the second factor, so token authentication
    counts as verified; a web session must have been verified with a code.
    """

    message = "Authentication with two-step verification is required."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if isinstance(request.successful_authenticator, TokenAuthentication):
            return True
        if user.is_verified():
            return True
        return not (has_two_factor(user) or user.requires_two_factor)
