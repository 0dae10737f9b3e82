"""The project's URLs plus stand-ins for controls still being built (the real ones win when they exist)."""

from django.http import HttpResponse
from django.urls import include, path


def _stand_in(request, record_uuid):
    return HttpResponse("")


urlpatterns = [
    path("", include("healthspace.urls")),
    path("test-only/<uuid:record_uuid>/history/", _stand_in, name="access_history"),
    path("test-only/<uuid:record_uuid>/privacy/", _stand_in, name="privacy_settings"),
]
