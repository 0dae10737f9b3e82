from django.urls import path

from apps.consents.privacy import views as privacy_views

urlpatterns = [
    path("records/<uuid:record_uuid>/privacy/", privacy_views.privacy_settings, name="privacy_settings"),
    path("records/<uuid:record_uuid>/privacy/toggle/", privacy_views.privacy_toggle, name="privacy_toggle"),
    path("records/<uuid:record_uuid>/privacy/block/", privacy_views.privacy_block, name="privacy_block"),
    path("records/<uuid:record_uuid>/privacy/designate/", privacy_views.privacy_designate, name="privacy_designate"),
    path("records/<uuid:record_uuid>/access-codes/", privacy_views.access_codes, name="access_codes"),
    path("access-codes/<uuid:code_uuid>/revoke/", privacy_views.access_code_revoke, name="access_code_revoke"),
]
