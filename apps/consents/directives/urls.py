from django.urls import path

from apps.consents.directives import views

urlpatterns = [
    path("records/<uuid:record_uuid>/directives/", views.personal_directives, name="personal_directives"),
]
