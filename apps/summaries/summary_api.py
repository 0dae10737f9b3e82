"""`GET /api/v1/records/{id}/summary/`: the summary's sections as JSON, each line with its sources."""

from __future__ import annotations

from dataclasses import asdict, fields

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.records.selectors import record_get_for
from apps.summaries.builder import record_summary


def line_data(line) -> dict:
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
    # The one status rule's state (apps/clinical/status.py), the source's own status beside it, and
    # the latest date any document stated the thing.
    data["state"] = str(line.state)
    data["source_status"] = line.status
    data["last_confirmed"] = line.last_confirmed.isoformat() if line.last_confirmed else None
    data["assertion"] = str(line.assertion)
    return data


def series_data(s) -> dict:
    """A result series as JSON: the summary's and the all-results endpoint's."""
    return {
        "display": s.display,  # the source's text
        "name": s.name,  # the short name in the reader's language
        "code_system": s.code_system,
        "code": s.code,
        "unit": s.unit,  # the series' unit: the points' (the latest line keeps the unit its source wrote)
        "latest": line_data(s.latest),
        "trend": s.trend,
        "points": [{"date": d.isoformat(), "value": str(v), "unit": s.unit} for d, v in s.points],
        "reference_low": s.reference_low,
        "reference_high": s.reference_high,
        "reference_text": s.reference_text,
        "out_of_range": s.out_of_range,
        # A series of its own (unconvertible, unknown_unit, implausible), and why in words.
        "unit_flag": s.unit_flag,
        "unit_note": s.unit_note,
    }


def _flag(flag) -> dict:
    """What a document says of the person (died, another identity), with that document."""
    return {
        "kind": flag.kind,
        "document_id": flag.document_id,
        "document_title": flag.document_title,
        "document_date": flag.document_date.isoformat(),
        "deceased_on": flag.deceased_on.isoformat() if flag.deceased_on else None,
        "identity": list(flag.identity),
        "identity_labels": list(flag.identity_labels),
    }


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
                "alerts": [line_data(x) for x in summary.alerts],
                "problems": [line_data(x) for x in summary.problems],
                "medications": [line_data(x) for x in summary.medications],
                # Not re-confirmed by any document for MEDICATION_RECONFIRM_MONTHS: never among the current.
                "medications_possibly_stopped": [line_data(x) for x in summary.possibly_stopped],
                # Information, not alerts: "no known allergy", and what a source ruled out.
                "none_known": [line_data(x) for x in summary.none_known],
                "ruled_out": [line_data(x) for x in summary.ruled_out],
                "results": [series_data(s) for s in summary.results],
                "vaccinations": [line_data(x) for x in summary.vaccinations],
                # How many exist in all, and beyond the lines above (see the results/conditions/medications endpoints).
                "totals": asdict(summary.totals),
                "more": asdict(summary.more),
                "new_documents": [
                    {"id": str(d.uuid), "title": d.title, "care_date": d.care_date} for d in summary.new_documents
                ],
                "flags": [_flag(flag) for flag in summary.flags],
            }
        )
