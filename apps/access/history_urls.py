from django.urls import path

from apps.access import history_views

urlpatterns = [
    path("records/<uuid:record_uuid>/history/", history_views.history, name="access_history"),
    path("records/<uuid:record_uuid>/history/export.csv", history_views.history_csv, name="access_history_csv"),
    path("records/<uuid:record_uuid>/history/export.pdf", history_views.history_pdf, name="access_history_pdf"),
]
