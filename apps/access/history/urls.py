from django.urls import path

from apps.access.history import views as history_views

urlpatterns = [
    path("records/<uuid:record_uuid>/history/", history_views.history, name="access_history"),
    path("records/<uuid:record_uuid>/history/export.csv", history_views.history_csv, name="access_history_csv"),
    path("records/<uuid:record_uuid>/history/export.pdf", history_views.history_pdf, name="access_history_pdf"),
    path("journal/public-key.txt", history_views.journal_public_key, name="journal_public_key"),
    path("records/<uuid:record_uuid>/history/journal.json", history_views.history_journal, name="access_journal_proof"),
]
