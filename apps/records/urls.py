from django.urls import path

from apps.records import document_views, family_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("records/new-child/", views.dependent_add, name="dependent_add"),
    path("records/<uuid:record_uuid>/upload/", document_views.upload, name="document_upload"),
    path("records/<uuid:record_uuid>/family/", family_views.family, name="record_family"),
    path("records/invitations/<str:token>/", family_views.invitation, name="record_invitation"),
    path(
        "documents/<uuid:document_uuid>/confidential/", family_views.document_confidential, name="document_confidential"
    ),
    path("documents/<uuid:document_uuid>/", document_views.document_detail, name="document_detail"),
    path("documents/<uuid:document_uuid>/content/", document_views.document_content, name="document_content"),
    path("documents/<uuid:document_uuid>/preview/", document_views.document_preview, name="document_preview"),
    path("documents/<uuid:document_uuid>/edit/", document_views.document_edit, name="document_edit"),
    path("documents/<uuid:document_uuid>/mask/", document_views.document_mask, name="document_mask"),
    path("documents/<uuid:document_uuid>/delete/", document_views.document_delete, name="document_delete"),
]
