from django.urls import path

from apps.assistance import views

urlpatterns = [
    path("assistance/", views.desk, name="assistance_desk"),
    path("assistance/start/", views.mandate_start, name="assistance_start"),
    path("assistance/mandates/", views.my_mandates, name="assistance_mandates"),
    path("assistance/mandates/<uuid:mandate_uuid>/confirm/", views.mandate_confirm, name="assistance_confirm"),
    path("assistance/mandates/<uuid:mandate_uuid>/mandate.pdf", views.mandate_pdf, name="assistance_pdf"),
    path("assistance/structure/", views.structure_mandates, name="assistance_structure"),
    path("records/<uuid:record_uuid>/mandates/", views.record_mandates, name="record_mandates"),
    path("mandates/<uuid:mandate_uuid>/revoke/", views.mandate_revoke, name="mandate_revoke"),
]
