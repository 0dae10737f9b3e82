from django.urls import path

from apps.accounts.api import MeApi, TokenApi
from apps.records.api import RecordDetailApi, RecordListApi

urlpatterns = [
    path("auth/token/", TokenApi.as_view(), name="api_token"),
    path("me/", MeApi.as_view(), name="api_me"),
    path("records/", RecordListApi.as_view(), name="api_records"),
    path("records/<uuid:record_uuid>/", RecordDetailApi.as_view(), name="api_record_detail"),
]
