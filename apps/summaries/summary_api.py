"""`GET /api/v1/records/{id}/summary/`: the summary's sections as JSON, each line with its sources."""

from __future__ import annotations

from dataclasses import fields

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.records.selectors import record_get_for
from apps.summaries.builder import record_summary


def _line(line) -> dict:
    # Field by field, not dataclasses.asdict: asdict deep-copies every value and was most of the
    # API's own time on a long summary.
    data = {f.name: getattr(line, f.name) for f in fields(line)}
    data["sources"] = [
        {"document_id": s.document_id, "title": s.title, "deleted": s.deleted, "withheld": s.withheld}
        for s in line.sources
    ]
    data["conflict"] = list(line.conflict)
    data["fact_ids"] = list(line.fact_ids)
    data["date"] = line.date.isoformat() if line.date else None
    data["end"] = line.end.isoformat() if line.end else None
    return data


class RecordSummaryApi(APIView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="The record's summary: alerts, active problems, current medications, latest results with trends, "
        "vaccinations, new documents since your last visit; every line with its source documents' ids",
    )
    def get(self, request, record_uuid):
        record, _decision = record_get_for(actor=request.user, record_uuid=record_uuid)
        summary = record_summary(actor=request.user, record=record)
        return Response(
            {
                "record": str(record.uuid),
                "generated_at": summary.generated_at,
                "since": summary.since,
                "alerts": [_line(x) for x in summary.alerts],
                "problems": [_line(x) for x in summary.problems],
                "medications": [_line(x) for x in summary.medications],
                "results": [
                    {
                        "display": s.display,
                        "code_system": s.code_system,
                        "code": s.code,
                        "unit": s.unit,
                        "latest": _line(s.latest),
                        "trend": s.trend,
                        "points": [{"date": d.isoformat(), "value": str(v)} for d, v in s.points],
                        "reference_low": s.reference_low,
                        "reference_high": s.reference_high,
                        "reference_text": s.reference_text,
                        "out_of_range": s.out_of_range,
                    }
                    for s in summary.results
                ],
                "vaccinations": [_line(x) for x in summary.vaccinations],
                "new_documents": [{"id": str(d.uuid), "title": d.title} for d in summary.new_documents],
            }
        )
