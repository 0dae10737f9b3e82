from django.urls import path

from apps.records import views

urlpatterns = [
    path("", views.home, name="home"),
    path("records/new-child/", views.dependent_add, name="dependent_add"),
    path("records/<uuid:record_uuid>/", views.record_detail, name="record_detail"),
]
