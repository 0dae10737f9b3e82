"""REST face of the access history: the same reads (and the same journal row) as the page."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.access.history.export import journal_proof_get_for
from apps.access.history.services import (
    ACTION_GROUPS,
    ActorKind,
    HistoryEntry,
    cursor_decode,
    cursor_encode,
    history_get_for,
)
from apps.access.history.views import HistoryFilterForm
from apps.access.models import Outcome
from apps.accounts.http import AuthenticatedRequest


class ActorSerializer(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True)
    label = serializers.CharField(allow_blank=True)  # type: ignore[assignment]  # a field named "label" shadows Field.label
    role = serializers.CharField()
    profession = serializers.CharField(allow_blank=True)


class PrincipalSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named "label" shadows Field.label


class ResourceSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.UUIDField(allow_null=True)
    label = serializers.CharField(allow_blank=True)  # type: ignore[assignment]  # a field named "label" shadows Field.label


class HistoryEntrySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="event.uuid")
    occurred_at = serializers.DateTimeField(source="event.occurred_at")
    sentence = serializers.CharField()
    actor = serializers.SerializerMethodField()
    on_behalf_of = serializers.SerializerMethodField()
    basis = serializers.CharField(source="event.basis")
    action = serializers.CharField(source="event.action")
    resource = serializers.SerializerMethodField()
    outcome = serializers.CharField(source="event.outcome")
    reason = serializers.CharField(allow_blank=True, help_text="Why it was refused, for the person; empty if allowed")
    first_access = serializers.BooleanField(help_text="The first allowed access of this actor to the record")
    emergency = serializers.BooleanField(help_text="A professional declared an emergency (break-glass)")

    @extend_schema_field(ActorSerializer)
    def get_actor(self, entry: HistoryEntry) -> dict[str, Any]:
        event = entry.event
        return {
            "id": event.actor_uuid,
            "label": event.actor_label,
            "role": event.actor_role,
            "profession": entry.profession,
        }

    @extend_schema_field(PrincipalSerializer(allow_null=True))
    def get_on_behalf_of(self, entry: HistoryEntry) -> dict[str, Any] | None:
        event = entry.event
        if not event.on_behalf_of_uuid:
            return None
        return {"id": event.on_behalf_of_uuid, "label": event.on_behalf_of_label}

    @extend_schema_field(ResourceSerializer)
    def get_resource(self, entry: HistoryEntry) -> dict[str, Any]:
        event = entry.event
        return {"type": event.resource_type, "id": event.resource_uuid, "label": event.resource_label}


class HistoryPageSerializer(serializers.Serializer):
    results = HistoryEntrySerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="Pass as `before` to get older entries")


def _choices(values: Any) -> list[str]:
    return [str(value) for value in values]


HISTORY_PARAMETERS = [
    OpenApiParameter("actor_kind", OpenApiTypes.STR, enum=_choices(k for k, _label in ActorKind.choices)),
    OpenApiParameter("person", OpenApiTypes.STR, description="Part of the actor's name"),
    OpenApiParameter("action_group", OpenApiTypes.STR, enum=_choices(ACTION_GROUPS)),
    OpenApiParameter("date_from", OpenApiTypes.DATE),
    OpenApiParameter("date_to", OpenApiTypes.DATE),
    OpenApiParameter("outcome", OpenApiTypes.STR, enum=_choices(Outcome.values)),
    OpenApiParameter("before", OpenApiTypes.STR, description="The `next` cursor of the previous page"),
]


class AccessHistoryApi(APIView):
    @extend_schema(
        parameters=HISTORY_PARAMETERS,
        responses=HistoryPageSerializer,
        summary="Who accessed a record, newest first, each entry as a sentence",
        description="Reading the history is itself journaled (action `journal.read`). "
        "Only the person and those who manage their record may read it; anyone else gets 404.",
    )
    def get(self, request: AuthenticatedRequest, record_uuid: UUID) -> Response:
        form = HistoryFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)  # type: ignore[arg-type]  # ErrorDict: a dict of error lists, rendered as is
        cursor = request.query_params.get("before", "")
        before = cursor_decode(cursor)
        if cursor and before is None:
            raise ValidationError({"before": ["This cursor is not valid; start again without it."]})
        page = history_get_for(actor=request.user, record_uuid=record_uuid, filters=form.filters(), before=before)
        return Response(
            {
                "results": HistoryEntrySerializer(page.entries, many=True).data,
                "next": cursor_encode(page.next_before) if page.next_before is not None else None,
            }
        )


class AccessJournalProofApi(APIView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="The record's journal chain and the proof from the last signed checkpoint",
        description="Every entry of the record's chain (the values its SHA-256 hash covers), the chain's "
        "head at the last checkpoint, the Merkle path to the checkpoint's root, its Ed25519 signature and "
        "public key: check it offline with `python journal_offline.py file.json`. An entry naming a document "
        "the reader may not see is given as its number, link and hash only (`redacted: true`). "
        "Journaled as `journal.read`; "
        "anyone the policy refuses gets 404.",
    )
    def get(self, request: AuthenticatedRequest, record_uuid: UUID) -> Response:
        _record, proof = journal_proof_get_for(actor=request.user, record_uuid=record_uuid)
        return Response(proof)
