from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from apps.accounts.views import ConfirmEmailView
from healthspace import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Ours first: a used link gets the "expired or invalid" page, not a 404.
    re_path(r"^accounts/confirm-email/(?P<key>[-:\w]+)/$", ConfirmEmailView.as_view(), name="account_confirm_email"),
    path("accounts/", include("allauth.urls")),
    path("account/", include("apps.accounts.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("pro/", include("apps.access.urls")),
    path("", include("apps.consents.privacy_urls")),
    path("", include("apps.delegations.urls")),
    path("", include("apps.assistance.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("healthspace.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="api_schema"), name="api_docs"),
    path("", include("apps.consents.urls")),
    path("", include("apps.access.history_urls")),
    path("", include("apps.summaries.urls")),
    path("", include("apps.clinical.urls")),
    path("", include("apps.records.urls")),
]
