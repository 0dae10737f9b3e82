from django.urls import path

from apps.accounts.oauth import views

urlpatterns = [
    path("", views.sign_ins, name="oauth_sign_ins"),
    path("end-all/", views.sign_ins_end_all, name="oauth_sign_ins_end_all"),
    path("<uuid:sign_in_id>/end/", views.sign_in_end, name="oauth_sign_in_end"),
]
