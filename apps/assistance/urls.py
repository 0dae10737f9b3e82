from django.urls import path

from apps.assistance import views
from apps.assistance.letters import views as letter_views

urlpatterns = [
    path("assistance/", views.desk, name="assistance_desk"),
    path("assistance/start/", views.mandate_start, name="assistance_start"),
    path("assistance/mandates/", views.my_mandates, name="assistance_mandates"),
    path("assistance/mandates/<uuid:mandate_uuid>/confirm/", views.mandate_confirm, name="assistance_confirm"),
    path("assistance/mandates/<uuid:mandate_uuid>/mandate.pdf", views.mandate_pdf, name="assistance_pdf"),
    path("assistance/structure/", views.structure_mandates, name="assistance_structure"),
    path(
        "assistance/structure/<uuid:mandate_uuid>/countersign/",
        views.mandate_countersign,
        name="assistance_countersign",
    ),
    path("mandates/<uuid:mandate_uuid>/accept/", views.mandate_accept, name="mandate_accept"),
    path("records/<uuid:record_uuid>/mandates/", views.record_mandates, name="record_mandates"),
    path("mandates/<uuid:mandate_uuid>/revoke/", views.mandate_revoke, name="mandate_revoke"),
    path("assistance/records/<uuid:record_uuid>/account/", letter_views.account_help, name="assistance_account"),
    path(
        "assistance/records/<uuid:record_uuid>/account/letter.pdf",
        letter_views.letter_print,
        name="assistance_letter",
    ),
    path(
        "assistance/records/<uuid:record_uuid>/account/second-factor/",
        letter_views.second_factor_reset,
        name="assistance_second_factor",
    ),
    path("account/support-acts/", letter_views.account_acts_review, name="account_acts_review"),
    path("activate/", letter_views.activate, name="activate"),
    path("activate/password/", letter_views.activate_password, name="activate_password"),
]
