from django.urls import include, path

from bench import views
from healthspace.urls import handler400, handler500  # noqa: F401 - the production error pages

urlpatterns = [
    path("bench/ceiling/", views.ceiling, name="bench_ceiling"),
    path("bench/ceiling-query/", views.ceiling_query, name="bench_ceiling_query"),
    path("", include("healthspace.urls")),
]
