from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from apps.accounts.views import ConfirmEmailView
from healthspace import views

# Redoc (served from our static files) styles itself inline and searches in a blob: worker;
# its page holds no health data, and scripts stay 'self' only.
api_docs = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"], "img-src": ["data:"]})(
    SpectacularRedocView.as_view(url_name="api_schema")
)

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Ours first: a used link gets the "expired or invalid" page, not a 404.
    re_path(r"^accounts/confirm-email/(?P<key>[-:\w]+)/$", ConfirmEmailView.as_view(), name="account_confirm_email"),
    path("accounts/", include("allauth.urls")),
    path("account/security/apps/", include("apps.accounts.oauth.web_urls")),
    path("account/", include("apps.accounts.urls")),
    # OAuth 2.0 authorisation server (django-oauth-toolkit): how apps and scripts get API tokens.
    path("o/", include("apps.accounts.oauth.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("pro/", include("apps.access.urls")),
    path("", include("apps.consents.privacy.urls")),
    path("", include("apps.delegations.urls")),
    path("", include("apps.assistance.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("healthspace.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", api_docs, name="api_docs"),
    path("", include("apps.consents.urls")),
    path("", include("apps.consents.directives.urls")),
    path("", include("apps.access.history.urls")),
    path("", include("apps.summaries.urls")),
    path("", include("apps.clinical.urls")),
    path("", include("apps.records.urls")),
]
handler400 = "healthspace.views.bad_request"
handler500 = "healthspace.views.server_error"
