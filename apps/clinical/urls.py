from django.urls import path

from apps.clinical import views

urlpatterns = [
    path("records/<uuid:record_uuid>/profile/", views.medical_profile, name="medical_profile"),
    path("records/<uuid:record_uuid>/profile/declare/<slug:kind>/", views.fact_declare, name="profile_declare"),
    path("profile/facts/<uuid:fact_uuid>/edit/", views.fact_edit, name="profile_fact_edit"),
    path("profile/facts/<uuid:fact_uuid>/delete/", views.fact_delete, name="profile_fact_delete"),
    path("profile/facts/<uuid:fact_uuid>/wrong/", views.fact_wrong, name="profile_fact_wrong"),
    path(
        "profile/rectifications/<uuid:rectification_uuid>/withdraw/",
        views.rectification_withdraw,
        name="profile_rectification_withdraw",
    ),
]
