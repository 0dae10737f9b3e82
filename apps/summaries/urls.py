from django.urls import path

from apps.summaries import record_page, search_views, views

urlpatterns = [
    path("records/<uuid:record_uuid>/", record_page.record_page, name="record_detail"),
    path("records/<uuid:record_uuid>/summary/pdf/", views.summary_pdf_request, name="summary_pdf_request"),
    path("records/<uuid:record_uuid>/search/", search_views.record_search_page, name="record_search"),
    path("records/<uuid:record_uuid>/results/", views.all_results, name="all_results"),
    path("records/<uuid:record_uuid>/conditions/", views.all_conditions, name="all_conditions"),
    path("records/<uuid:record_uuid>/medications/", views.all_medications, name="all_medications"),
    path("summary-exports/<uuid:export_uuid>/", views.summary_export, name="summary_export"),
    path(
        "summary-exports/<uuid:export_uuid>/download/",
        views.summary_export_download,
        name="summary_export_download",
    ),
]
