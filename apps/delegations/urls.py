from django.urls import path

from apps.delegations import views

urlpatterns = [
    path("records/<uuid:record_uuid>/caregivers/", views.record_caregivers, name="record_caregivers"),
    path("delegations/<uuid:delegation_uuid>/stop/", views.delegation_stop, name="delegation_stop"),
    path("delegations/accept/<str:token>/", views.delegation_accept, name="delegation_accept"),
]
