"""REST face of caregivers' delegations: the same services as the web pages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.access.policy import Action
from apps.delegations import services
from apps.delegations.models import Delegation, Scope
from apps.delegations.views import delegation_state
from apps.records import selectors
from healthspace.api_refusals import refused_schema


def _record(request, record_uuid):
    record, _decision = selectors.record_get_for(
        actor=request.user, record_uuid=record_uuid, action=Action.DELEGATION_MANAGE
    )
    return record


class DelegationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid")
    record = serializers.UUIDField(source="record.uuid")
    delegate = serializers.SerializerMethodField()
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices))
    scope_labels = serializers.ListField(child=serializers.CharField())
    state = serializers.SerializerMethodField()

    class Meta:
        model = Delegation
        fields = [
            "id",
            "record",
            "invited_email",
            "delegate",
            "scopes",
            "scope_labels",
            "state",
            "created_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
        ]

    def get_delegate(self, delegation: Delegation) -> str | None:
        return delegation.delegate.display_name if delegation.delegate is not None else None

    def get_state(self, delegation: Delegation) -> str:
        """waiting, active, ended or revoked."""
        return delegation_state(delegation)


class HelpedRecordSerializer(serializers.ModelSerializer):
    """What the logged-in person may do for someone: the record's name, never its content."""

    id = serializers.UUIDField(source="uuid")
    record = serializers.SerializerMethodField()
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices))
    scope_labels = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Delegation
        fields = ["id", "record", "scopes", "scope_labels", "expires_at", "accepted_at"]

    @extend_schema_field(
        inline_serializer(
            "HelpedRecordName",
            {
                "id": serializers.UUIDField(),
                "given_names": serializers.CharField(),
                "family_name": serializers.CharField(),
            },
        )
    )
    def get_record(self, delegation: Delegation) -> dict[str, str]:
        record = delegation.record
        return {"id": str(record.uuid), "given_names": record.given_names, "family_name": record.family_name}


class InviteSerializer(serializers.Serializer):
    email = serializers.EmailField()
    scopes = serializers.ListField(child=serializers.CharField(), allow_empty=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class AcceptInvitationSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)


REFUSED = refused_schema("DelegationRefused")


class RecordDelegationsApi(APIView):
    @extend_schema(responses=DelegationSerializer(many=True), summary="The caregivers of a record (person or parent)")
    def get(self, request, record_uuid):
        record = _record(request, record_uuid)
        delegations = services.delegations_for_record(actor=request.user, record=record)
        return Response(DelegationSerializer(delegations, many=True).data)

    @extend_schema(
        request=InviteSerializer,
        responses={201: DelegationSerializer, 400: REFUSED},
        summary="Invite a caregiver by e-mail (the e-mail carries the link to accept)",
    )
    def post(self, request, record_uuid):
        record = _record(request, record_uuid)
        invite = InviteSerializer(data=request.data)
        invite.is_valid(raise_exception=True)
        delegation, _token = services.delegation_invite(actor=request.user, record=record, **invite.validated_data)
        return Response(DelegationSerializer(delegation).data, status=status.HTTP_201_CREATED)


class DelegationRevokeApi(APIView):
    @extend_schema(
        request=None, responses=DelegationSerializer, summary="Stop a caregiver, or stop helping (as the caregiver)"
    )
    def post(self, request, delegation_uuid):
        delegation = services.delegation_revoke(actor=request.user, delegation_uuid=delegation_uuid)
        return Response(DelegationSerializer(delegation).data)


class DelegationAcceptApi(APIView):
    @extend_schema(
        request=AcceptInvitationSerializer,
        responses={200: HelpedRecordSerializer, 400: REFUSED},
        summary="Accept an invitation with the token of its link",
    )
    def post(self, request):
        data = AcceptInvitationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = data.validated_data["token"]
        delegation = services.delegation_accept(user=request.user, token=token)
        return Response(HelpedRecordSerializer(delegation).data)


class MyDelegationsApi(APIView):
    @extend_schema(responses=HelpedRecordSerializer(many=True), summary="What you may do for others, with the scopes")
    def get(self, request):
        return Response(HelpedRecordSerializer(services.delegations_of(user=request.user), many=True).data)
