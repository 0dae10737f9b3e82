"""REST face of support mandates: the same services as the web pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.access.policy import Action
from apps.assistance import services
from apps.assistance.models import Mandate, MandateScope
from apps.records import selectors
from apps.records.models import Record
from healthspace.api_refusals import refused, refused_schema

SCOPES_HELP = "Any of: " + ", ".join(MandateScope.values)


class MandateSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid")
    record = serializers.SerializerMethodField()
    agent = serializers.CharField(source="agent.__str__")
    structure = serializers.CharField(source="structure.name")
    scopes = serializers.ListField(child=serializers.CharField(), help_text=SCOPES_HELP)
    confirmation_method = serializers.CharField(help_text="email_code or signed_paper")
    scope_labels = serializers.ListField(child=serializers.CharField())
    state = serializers.SerializerMethodField()

    class Meta:
        model = Mandate
        fields = [
            "id",
            "number",
            "record",
            "agent",
            "structure",
            "scopes",
            "scope_labels",
            "confirmation_method",
            "state",
            "created_at",
            "expires_at",
            "confirmed_at",
            "revoked_at",
        ]

    @extend_schema_field(
        inline_serializer(
            "MandateRecordName",
            {
                "id": serializers.UUIDField(),
                "given_names": serializers.CharField(),
                "family_name": serializers.CharField(),
            },
        )
    )
    def get_record(self, mandate: Mandate) -> dict[str, str]:
        record = mandate.record
        return {"id": str(record.uuid), "given_names": record.given_names, "family_name": record.family_name}

    def get_state(self, mandate: Mandate) -> str:
        """waiting, active, ended, revoked or cancelled."""
        return mandate.state()


class MandateStartSerializer(serializers.Serializer):
    record = serializers.UUIDField(help_text="The record found at the desk by exact identity.")
    scopes = serializers.ListField(child=serializers.CharField(), allow_empty=True, help_text=SCOPES_HELP)
    days = serializers.IntegerField()
    method = serializers.CharField(help_text="email_code or signed_paper")


REFUSED = refused_schema("MandateRefused")


class RecordMandatesApi(APIView):
    @extend_schema(responses=MandateSerializer(many=True), summary="The mandates of a record (person or parent)")
    def get(self, request, record_uuid):
        try:
            record, _decision = selectors.record_get_for(
                actor=request.user, record_uuid=record_uuid, action=Action.DELEGATION_MANAGE
            )
        except selectors.RecordUnavailable:
            raise NotFound() from None
        mandates = services.mandates_for_record(actor=request.user, record=record)
        return Response(MandateSerializer(mandates, many=True).data)


class MandateRevokeApi(APIView):
    @extend_schema(request=None, responses=MandateSerializer, summary="Stop a mandate (person, parent, manager)")
    def post(self, request, mandate_uuid):
        try:
            mandate = services.mandate_revoke(actor=request.user, mandate_uuid=mandate_uuid)
        except selectors.RecordUnavailable:
            raise NotFound() from None
        return Response(MandateSerializer(mandate).data)


class MandatesApi(APIView):
    @extend_schema(
        request=MandateStartSerializer,
        responses={201: MandateSerializer, 400: REFUSED},
        summary="Prepare a mandate (support agent); it works once the person confirms it",
    )
    def post(self, request):
        start = MandateStartSerializer(data=request.data)
        start.is_valid(raise_exception=True)
        data = dict(start.validated_data)
        record = Record.objects.select_related("owner").filter(uuid=data.pop("record")).first()
        try:
            if record is None:
                raise services.RecordUnavailable(
                    services.journal_note(
                        actor=request.user,
                        record_uuid=start.validated_data["record"],
                        action="mandate.start",
                        allowed=False,
                        reason_code="no_such_record",
                    )
                )
            mandate = services.mandate_start(agent=request.user, record=record, **data)
        except selectors.RecordUnavailable:
            raise NotFound() from None
        except services.MandateRefused as refusal:
            return refused(refusal.message)
        return Response(MandateSerializer(mandate).data, status=status.HTTP_201_CREATED)


class MandateConfirmApi(APIView):
    @extend_schema(
        request=inline_serializer("MandateConfirm", {"code": serializers.CharField()}),
        responses={200: MandateSerializer, 400: REFUSED},
        summary="Confirm with the person's code, or the number of the signed paper (5 wrong tries cancel it)",
    )
    def post(self, request, mandate_uuid):
        code = request.data.get("code")
        if not isinstance(code, str):
            code = ""
        try:
            mandate = services.mandate_confirm(agent=request.user, mandate_uuid=mandate_uuid, code=code)
        except selectors.RecordUnavailable:
            raise NotFound() from None
        except services.MandateRefused as refusal:
            return refused(refusal.message)
        return Response(MandateSerializer(mandate).data)


class MyMandatesApi(APIView):
    @extend_schema(responses=MandateSerializer(many=True), summary="The support agent's own mandates")
    def get(self, request):
        if not request.user.is_support_agent:
            raise NotFound()
        return Response(MandateSerializer(services.mandates_of_agent(agent=request.user), many=True).data)
