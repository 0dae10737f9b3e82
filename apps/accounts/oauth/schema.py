"""OpenAPI: every API operation accepts an OAuth 2.0 bearer token with the "api" scope.

drf-spectacular's extension for django-oauth-toolkit names a requirement only for DOT's
scope permissions; ours is IsVerifiedUser (apps.accounts.api_permissions), so say it here.
"""

from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme

from apps.accounts.api_permissions import API_SCOPE


class HealthspaceOAuth2Scheme(DjangoOAuthToolkitScheme):
    priority = 1

    def get_security_requirement(self, auto_schema):
        return super().get_security_requirement(auto_schema) or {self.name: [API_SCOPE]}
