"""REST face of the privacy settings, blocked professionals, designated doctor and access codes."""

from __future__ import annotations

from uuid import UUID

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.access.models import AccessCode
from apps.access.policy import Action
from apps.access.professional import services as access_services
from apps.accounts.models import Role, User
from apps.consents.explanations import EXPLANATIONS
from apps.consents.models import SettingChange
from apps.consents.privacy import services as privacy
from apps.consents.services import privacy_state, setting_history
from apps.records import selectors
from apps.records.selectors import documents_visible_to
from healthspace.api_errors import PresentBooleanField


def _record(request, record_uuid, action=Action.SETTINGS_READ):
    record, _decision = selectors.record_get_for(actor=request.user, record_uuid=record_uuid, action=action)
    return record


def _professional(value: UUID) -> User:
    professional = User.objects.filter(uuid=value, role=Role.PROFESSIONAL).first()
    if professional is None:
        raise ValidationError({"professional": [_("No health professional with this id.")]})
    return professional


class BlockSerializer(serializers.Serializer):
    professional = serializers.UUIDField()
    # Strict: "false", false and 0 unblock; anything that is not a boolean is a 400.
    blocked = serializers.BooleanField(default=True)


class DesignateSerializer(serializers.Serializer):
    professional = serializers.UUIDField(allow_null=True)

    def to_internal_value(self, data):
        if hasattr(data, "get") and data.get("professional") == "":
            data = {"professional": None}  # the form's empty choice: no designated doctor
        return super().to_internal_value(data)


CODE_DURATION = gettext_lazy("An access code lasts from 1 hour to 7 days.")


class NewCodeSerializer(serializers.Serializer):
    hours = serializers.IntegerField(
        min_value=1, max_value=168, error_messages={"min_value": CODE_DURATION, "max_value": CODE_DURATION}
    )


class ProfessionalSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid")

    class Meta:
        model = User
        fields = ["id", "display_name", "profession", "rpps"]


class SettingsSerializer(serializers.Serializer):
    professional_access = serializers.BooleanField()
    emergency_access = serializers.BooleanField()
    research_use = serializers.BooleanField()
    designated_doctor = serializers.UUIDField(allow_null=True)
    blocked_professionals = serializers.ListField(child=serializers.UUIDField())
    masked_documents = serializers.ListField(child=serializers.UUIDField())
    explanations = serializers.DictField(child=serializers.DictField(child=serializers.CharField()))


class SettingsChangeSerializer(serializers.Serializer):
    professional_access = PresentBooleanField(required=False)
    emergency_access = PresentBooleanField(required=False)
    research_use = PresentBooleanField(required=False)


class SettingChangeSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid")
    changed_by = serializers.CharField(source="changed_by.__str__")

    class Meta:
        model = SettingChange
        fields = [
            "id",
            "key",
            "subject",
            "subject_label",
            "before",
            "after",
            "changed_by",
            "through_basis",
            "changed_at",
        ]


def _settings_payload(record, actor) -> dict:
    state = privacy_state(record=record)
    return {
        "professional_access": state.professional_access,
        "emergency_access": state.emergency_access,
        "research_use": state.research_use,
        "designated_doctor": state.designated_doctor,
        "blocked_professionals": sorted(state.blocked),
        # The documents' own flag, and only those the reader may list (managing settings is not reading documents).
        "masked_documents": sorted(
            str(uuid)
            for uuid in documents_visible_to(actor=actor, record=record)
            .filter(masked=True)
            .values_list("uuid", flat=True)
        ),
        "explanations": {
            key: {"does": str(e.does), "who": str(e.who), "example": str(e.example), "does_not": str(e.does_not)}
            for key, e in EXPLANATIONS.items()
        },
    }


class PrivacySettingsApi(APIView):
    @extend_schema(responses=SettingsSerializer, summary="The record's privacy settings, each with its explanation")
    def get(self, request, record_uuid):
        return Response(_settings_payload(_record(request, record_uuid), request.user))

    @extend_schema(request=SettingsChangeSerializer, responses=SettingsSerializer, summary="Change settings")
    def patch(self, request, record_uuid):
        record = _record(request, record_uuid, action=Action.SETTINGS_EDIT)
        change = SettingsChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        for key, on in change.validated_data.items():
            privacy.toggle_set(actor=request.user, record=record, key=key, on=on)
        return Response(_settings_payload(record, request.user))


class SettingHistoryApi(APIView):
    @extend_schema(
        responses=SettingChangeSerializer(many=True), summary="Every change of a setting: who, when, before → after"
    )
    def get(self, request, record_uuid):
        record = _record(request, record_uuid)
        return Response(SettingChangeSerializer(setting_history(actor=request.user, record=record), many=True).data)


class BlockedProfessionalsApi(APIView):
    @extend_schema(responses=ProfessionalSerializer(many=True), summary="Professionals you blocked")
    def get(self, request, record_uuid):
        record = _record(request, record_uuid)
        blocked = User.objects.filter(uuid__in=privacy_state(record=record).blocked)
        return Response(ProfessionalSerializer(blocked, many=True).data)

    @extend_schema(
        request=BlockSerializer,
        responses=ProfessionalSerializer(many=True),
        summary="Block or unblock a professional",
    )
    def post(self, request, record_uuid):
        record = _record(request, record_uuid, action=Action.SETTINGS_EDIT)
        data = BlockSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        professional = _professional(data.validated_data["professional"])
        privacy.professional_block(
            actor=request.user, record=record, professional=professional, blocked=data.validated_data["blocked"]
        )
        return self.get(request, record_uuid)


class DesignatedSerializer(serializers.Serializer):
    professional = ProfessionalSerializer(allow_null=True)


class DesignatedDoctorApi(APIView):
    @extend_schema(
        responses=DesignatedSerializer,
        summary="Your designated doctor (null when none)",
    )
    def get(self, request, record_uuid):
        record = _record(request, record_uuid)
        designated = privacy_state(record=record).designated_doctor
        doctor = User.objects.filter(uuid=designated).first() if designated else None
        return Response({"professional": ProfessionalSerializer(doctor).data if doctor else None})

    @extend_schema(
        request=DesignateSerializer,
        responses=DesignatedSerializer,
        summary="Designate a doctor (null to remove)",
    )
    def put(self, request, record_uuid):
        record = _record(request, record_uuid, action=Action.SETTINGS_EDIT)
        data = DesignateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        value = data.validated_data["professional"]
        professional = _professional(value) if value else None
        privacy.designated_doctor_set(actor=request.user, record=record, professional=professional)
        return Response({"professional": ProfessionalSerializer(professional).data if professional else None})


class AccessCodeSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid")
    used_by = serializers.SerializerMethodField()

    class Meta:
        model = AccessCode
        fields = ["id", "hint", "created_at", "expires_at", "revoked_at", "used_by"]

    def get_used_by(self, code: AccessCode) -> int:
        return len(code.uses.all())


class AccessCodesApi(APIView):
    @extend_schema(responses=AccessCodeSerializer(many=True), summary="Your access codes")
    def get(self, request, record_uuid):
        record = _record(request, record_uuid)
        codes = access_services.access_codes_for(actor=request.user, record=record)
        return Response(AccessCodeSerializer(codes, many=True).data)

    @extend_schema(
        request=NewCodeSerializer,
        responses={
            201: inline_serializer(
                "CreatedCode",
                {
                    "id": serializers.UUIDField(),
                    "code": serializers.CharField(),
                    "expires_at": serializers.DateTimeField(),
                },
            )
        },
        summary="Create a code for one consultation (the code is shown only in this answer)",
    )
    def post(self, request, record_uuid):
        record = _record(request, record_uuid, action=Action.SETTINGS_EDIT)
        data = NewCodeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            code, plain = access_services.access_code_create(
                actor=request.user, record=record, hours=data.validated_data["hours"]
            )
        except ValueError as error:
            raise ValidationError({"hours": [str(error)]}) from None
        return Response(
            {"id": str(code.uuid), "code": plain, "expires_at": code.expires_at}, status=status.HTTP_201_CREATED
        )


class AccessCodeRevokeApi(APIView):
    @extend_schema(request=None, responses=AccessCodeSerializer, summary="Cancel a code")
    def post(self, request, code_uuid):
        code = access_services.access_code_revoke(actor=request.user, code_uuid=code_uuid)
        return Response(AccessCodeSerializer(code).data)
