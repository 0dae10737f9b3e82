"""`GET /api/v1/records/{id}/results/`, `.../conditions/`, `.../medications/`: everything the summary
leaves out, through the same services as the pages (apps/summaries/all_facts.py)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.clinical.models import FactKind
from apps.summaries import all_facts
from apps.summaries.summary_api import line_data, series_data


# For the schema only (the responses are built from the services' lines): the main fields;
# a line carries every field of the summary's lines.
class FactSourceSerializer(serializers.Serializer):
    document_id = serializers.UUIDField(allow_null=True, help_text="Null when the reader may not see the document")
    title = serializers.CharField()
    deleted = serializers.BooleanField()
    withheld = serializers.BooleanField(help_text="From a document the reader may not see")


class FactLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    display = serializers.CharField(help_text="As the source wrote it")
    code_system = serializers.CharField()
    code = serializers.CharField()
    date = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    status = serializers.CharField(help_text="The source's own status")
    detail = serializers.CharField()
    value = serializers.CharField()
    unit = serializers.CharField()
    number = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    sources = FactSourceSerializer(many=True)
    conflict = serializers.ListField(child=serializers.CharField())
    declared_by = serializers.CharField()
    rectification = serializers.CharField()
    fact_ids = serializers.ListField(child=serializers.UUIDField())
    state = serializers.CharField(help_text="Our state by the one status rule (current, finished, possibly_stopped…)")
    last_confirmed = serializers.DateField(allow_null=True, help_text="The latest date a document stated it")
    assertion = serializers.CharField(help_text="present, absent (ruled out) or none_known")
    name = serializers.CharField(help_text="The short name a person reads, in the request's language")
    criticality = serializers.CharField()
    alert_reason = serializers.CharField()


class HistoryLineSerializer(FactLineSerializer):
    current = serializers.BooleanField(help_text="Current by the summary's rule")


class ResultPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    value = serializers.CharField(help_text="In the series' unit")
    unit = serializers.CharField()


class ResultSeriesSerializer(serializers.Serializer):
    display = serializers.CharField(help_text="As the source wrote it")
    name = serializers.CharField(help_text="The short name a person reads, in the request's language")
    code_system = serializers.CharField()
    code = serializers.CharField()
    unit = serializers.CharField()
    latest = FactLineSerializer()
    trend = serializers.ChoiceField(choices=["up", "down", "stable", ""])
    points = ResultPointSerializer(many=True)
    reference_low = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    reference_high = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    reference_text = serializers.CharField()
    out_of_range = serializers.BooleanField()
    unit_flag = serializers.CharField(help_text="Why the series is one of its own (unconvertible unit...), else empty")
    unit_note = serializers.CharField()


class ResultPanelSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="lipids, blood_count, kidney…; group:<label> (the source's own); other")
    label = serializers.CharField(help_text="In the request's language")  # type: ignore[assignment]  # a field named "label", as the JSON says
    series = ResultSeriesSerializer(many=True)


class RecordResultsSerializer(serializers.Serializer):
    record = serializers.UUIDField()
    panels = ResultPanelSerializer(many=True)


class RecordConditionsSerializer(serializers.Serializer):
    record = serializers.UUIDField()
    conditions = HistoryLineSerializer(many=True)


class RecordMedicationsSerializer(serializers.Serializer):
    record = serializers.UUIDField()
    medications = HistoryLineSerializer(many=True)


class RecordResultsApi(APIView):
    @extend_schema(
        responses=RecordResultsSerializer,
        summary="Every result series of the record, grouped by panel (lipids, blood count, kidney, liver, thyroid, "
        "diabetes, vital signs, other): the latest value as the source wrote it, its date, trend and sources",
    )
    def get(self, request, record_uuid):
        record, _decision, panels = all_facts.all_results_get(actor=request.user, record_uuid=record_uuid)
        return Response(
            {
                "record": str(record.uuid),
                "panels": [
                    {"key": panel.key, "label": panel.label, "series": [series_data(s) for s in panel.series]}
                    for panel in panels
                ],
            }
        )


def _history(request, record_uuid, kind: str, name: str) -> Response:
    record, _decision, lines = all_facts.history_get(actor=request.user, record_uuid=record_uuid, kind=kind)
    return Response(
        {"record": str(record.uuid), name: [{**line_data(entry.line), "current": entry.current} for entry in lines]}
    )


class RecordConditionsApi(APIView):
    @extend_schema(
        responses=RecordConditionsSerializer,
        summary="Every condition of the record, current and past, newest first, each with its sources",
    )
    def get(self, request, record_uuid):
        return _history(request, record_uuid, FactKind.CONDITION, "conditions")


class RecordMedicationsApi(APIView):
    @extend_schema(
        responses=RecordMedicationsSerializer,
        summary="Every medication of the record, current and past, newest first, each with its sources",
    )
    def get(self, request, record_uuid):
        return _history(request, record_uuid, FactKind.MEDICATION, "medications")
