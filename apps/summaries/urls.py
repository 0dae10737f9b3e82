from django.urls import path

from apps.summaries import record_page, views

urlpatterns = [
    path("records/<uuid:record_uuid>/", record_page.record_page, name="record_detail"),
    path("records/<uuid:record_uuid>/summary/pdf/", views.summary_pdf_request, name="summary_pdf_request"),
    path("summary-exports/<uuid:export_uuid>/", views.summary_export, name="summary_export"),
    path(
        "summary-exports/<uuid:export_uuid>/download/",
        views.summary_export_download,
        name="summary_export_download",
    ),
]
