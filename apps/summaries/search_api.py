"""`GET /api/v1/records/{id}/search/?q=`: the record's search box as JSON, through the same service."""

from __future__ import annotations

from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.records.selectors import record_get_for
from apps.summaries.search import QUERY_MAX_LENGTH, FoundThing, SearchResults, record_search
from apps.summaries.summary_api import line_data


def _thing(thing: FoundThing) -> dict:
    return {
        "kind": thing.kind,
        "latest": line_data(thing.latest),
        "earlier": [line_data(line) for line in thing.earlier],
        "found": thing.count,
    }


def search_body(results: SearchResults) -> dict:
    return {
        "query": results.query,
        "message": results.message,
        "understood": results.understood,
        "latest_only": results.latest_only,
        "facts_searched": results.facts_searched,
        "documents_searched": results.documents_searched,
        "facts": [_thing(thing) for thing in results.things],
        "more_facts": results.more_things,
        "documents": [
            {
                "id": str(document.uuid),
                "title": document.title,
                "category": document.category,
                "date": document.sort_day.isoformat() if document.sort_day else None,
            }
            for document in results.documents
        ],
        "more_documents": results.more_documents,
        "suggestions": results.suggestions,
    }


class RecordSearchApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                description=f"What to find, in the person's words, French or English (at most {QUERY_MAX_LENGTH} "
                "characters): 'cholestérol', 'tension', 'vaccin grippe', 'my last blood test', a medicine's name.",
            )
        ],
        responses={
            200: OpenApiTypes.OBJECT,
            400: inline_serializer("SearchRefused", {"detail": serializers.CharField(), "q": serializers.ListField()}),
        },
        summary="Find facts and documents of a record by the words a person uses; each fact found is one line "
        "(its latest value, date and source), its earlier values after it",
    )
    def get(self, request, record_uuid):
        record, _decision = record_get_for(actor=request.user, record_uuid=record_uuid)
        results = record_search(
            actor=request.user, record=record, query=request.query_params.get("q", ""), language=get_language()
        )
        return Response(search_body(results))
