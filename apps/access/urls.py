from django.urls import path

from apps.access.professional import views as pro_views

urlpatterns = [
    path("", pro_views.pro_home, name="pro_home"),
    path("find/", pro_views.pro_find, name="pro_find"),
    path("code/", pro_views.pro_code, name="pro_code"),
    path("records/<uuid:record_uuid>/attest/", pro_views.pro_attest, name="pro_attest"),
    path("records/<uuid:record_uuid>/emergency/", pro_views.pro_emergency, name="pro_emergency"),
]
