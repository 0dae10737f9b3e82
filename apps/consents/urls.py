from django.urls import path

from apps.consents import views

urlpatterns = [
    path("how-my-data-is-used/", views.data_use, name="data_use"),
]
