"""REST face of the summary PDF exports: the same services as the pages."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.summaries import exports
from apps.summaries.models import ExportStatus, SummaryExport
from apps.summaries.views import pdf_response


class SummaryExportSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    record = serializers.UUIDField(source="record.uuid", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = SummaryExport
        fields = ["id", "record", "status", "status_label", "progress", "created_at", "finished_at", "download_url"]

    def get_download_url(self, export: SummaryExport) -> str | None:
        if export.status != ExportStatus.READY:
            return None
        return reverse("api_summary_export_download", kwargs={"export_uuid": export.uuid})


class ExportNotReadySerializer(serializers.Serializer):
    detail = serializers.CharField()
    status = serializers.CharField()


class SummaryPdfRequestApi(APIView):
    @extend_schema(
        request=None,
        responses={202: SummaryExportSerializer},
        summary="Start a summary PDF (IPS sections); ready at once for small records, else built in the background",
    )
    def post(self, request, record_uuid):
        export = exports.summary_export_request_for(
            actor=request.user, record_uuid=record_uuid, language=get_language()
        )
        return Response(SummaryExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)


class SummaryExportApi(APIView):
    @extend_schema(responses=SummaryExportSerializer, summary="A summary PDF export: status and progress (0-100)")
    def get(self, request, export_uuid):
        export = exports.summary_export_get_for(actor=request.user, export_uuid=export_uuid)
        return Response(SummaryExportSerializer(export).data)


class SummaryExportDownloadApi(APIView):
    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 409: ExportNotReadySerializer},
        summary="Download a ready summary PDF (the access is journaled)",
    )
    def get(self, request, export_uuid):
        try:
            export, data = exports.summary_export_content(actor=request.user, export_uuid=export_uuid)
        except exports.ExportNotReady as not_ready:
            return Response(
                {"detail": "The summary PDF is not ready.", "status": not_ready.export.status},
                status=status.HTTP_409_CONFLICT,
            )
        return pdf_response(export, data)
