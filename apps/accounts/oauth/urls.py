"""The authorisation server, mounted at /o/: authorise (a page), token, revoke, introspect.

No password or implicit grant, no application management for users (operators use the admin).
"""

from django.urls import path

from apps.accounts.oauth import views

app_name = "oauth2_provider"  # DOT's views reverse names in this namespace

urlpatterns = [
    path("authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
]
