"""REST face of support mandates: the same services as the web pages."""

from __future__ import annotations

from allauth.core import ratelimit
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.access.door import fetch
from apps.access.policy import Action
from apps.assistance import services
from apps.assistance.models import Mandate, MandateScope, StructureManager
from apps.records import selectors
from apps.records.models import Record
from healthspace.api_refusals import refused_schema

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


def _require_recent_login(request) -> None:
    """Starting a mandate asks for a recent authentication, as the web page does. A browser session
    must have re-authenticated (allauth); an API token is short-lived by design (OAuth access tokens)."""
    from allauth.account.internal.flows.reauthentication import is_reauthentication_required
    from rest_framework.authentication import SessionAuthentication

    if isinstance(request.successful_authenticator, SessionAuthentication) and is_reauthentication_required(
        request._request, app=""
    ):
        raise PermissionDenied(_("Confirm your password again before you act on a mandate."))


class RecordMandatesApi(APIView):
    @extend_schema(responses=MandateSerializer(many=True), summary="The mandates of a record (person or parent)")
    def get(self, request, record_uuid):
        record, _decision = selectors.record_get_for(
            actor=request.user, record_uuid=record_uuid, action=Action.DELEGATION_MANAGE
        )
        mandates = services.mandates_for_record(actor=request.user, record=record)
        return Response(MandateSerializer(mandates, many=True).data)


class MandateRevokeApi(APIView):
    @extend_schema(
        request=None, responses=MandateSerializer, summary="Stop or refuse a mandate (person, parent, manager)"
    )
    def post(self, request, mandate_uuid):
        mandate = services.mandate_revoke(actor=request.user, mandate_uuid=mandate_uuid)
        return Response(MandateSerializer(mandate).data)


class MandatesApi(APIView):
    @extend_schema(
        request=MandateStartSerializer,
        responses={201: MandateSerializer, 400: REFUSED},
        summary="Prepare a mandate (support agent); it works once the person, or for paper a manager, confirms it",
    )
    def post(self, request):
        start = MandateStartSerializer(data=request.data)
        start.is_valid(raise_exception=True)
        _require_recent_login(request)
        data = dict(start.validated_data)
        # Only fetched: mandate_start decides (and journals) whether this agent may start one.
        record = fetch(request.user, Record.objects.select_related("owner"), data.pop("record"), Action.MANDATE_START)
        mandate = services.mandate_start(agent=request.user, record=record, **data)
        return Response(MandateSerializer(mandate).data, status=status.HTTP_201_CREATED)


class MandateConfirmApi(APIView):
    rate_limited = True  # allauth's limiter answers 429 (documented by healthspace.api_schema)

    @extend_schema(
        request=inline_serializer("MandateConfirm", {"code": serializers.CharField()}),
        responses={200: MandateSerializer, 400: REFUSED},
        summary="The agent types the code sent to the person's confirmed e-mail (5 wrong tries cancel it); "
        "a paper mandate is never confirmed here",
    )
    def post(self, request, mandate_uuid):
        code = request.data.get("code")
        if not isinstance(code, str):
            code = ""
        mandate = services.mandate_get_for_agent(request.user, mandate_uuid, Action.MANDATE_CONFIRM)
        if not ratelimit.consume(request._request, action="mandate_code", key=str(mandate.uuid)):
            return Response(
                {"detail": _("Too many tries. Wait 10 minutes, then try again.")},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        mandate = services.mandate_confirm(agent=request.user, mandate_uuid=mandate_uuid, code=code)
        return Response(MandateSerializer(mandate).data)


class MandateAcceptApi(APIView):
    @extend_schema(
        request=None,
        responses={200: MandateSerializer, 400: REFUSED},
        summary="The person (or a parent) confirms a waiting mandate themselves",
    )
    def post(self, request, mandate_uuid):
        mandate = services.mandate_accept(actor=request.user, mandate_uuid=mandate_uuid)
        return Response(MandateSerializer(mandate).data)


class MandateCountersignApi(APIView):
    @extend_schema(
        request=None,
        responses={200: MandateSerializer, 400: REFUSED},
        summary="A manager of the structure, not the agent, countersigns a paper mandate after seeing the signed paper",
    )
    def post(self, request, mandate_uuid):
        _require_recent_login(request)
        mandate = services.mandate_countersign(manager=request.user, mandate_uuid=mandate_uuid)
        return Response(MandateSerializer(mandate).data)


class MandatesToCountersignApi(APIView):
    @extend_schema(
        responses=MandateSerializer(many=True), summary="Paper mandates waiting for the manager's countersignature"
    )
    def get(self, request):
        if not StructureManager.objects.filter(user=request.user).exists():
            raise NotFound()
        return Response(MandateSerializer(services.mandates_to_countersign(manager=request.user), many=True).data)


class MyMandatesApi(APIView):
    @extend_schema(responses=MandateSerializer(many=True), summary="The support agent's own mandates")
    def get(self, request):
        if not request.user.is_support_agent:
            raise NotFound()
        return Response(MandateSerializer(services.mandates_of_agent(agent=request.user), many=True).data)
