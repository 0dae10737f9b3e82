"""REST face of records: the same selectors and services as the web pages."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.delegations.services import delegations_of
from apps.records import selectors, services
from apps.records.models import InsSystem, Record, Sex, ins_validator, validate_birth_date


class DelegatedAccessSerializer(serializers.Serializer):
    basis = serializers.CharField(help_text="Always `delegation` here.")
    scopes = serializers.ListField(child=serializers.CharField(), help_text="What the person allows you to do.")


class RecordSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    is_own = serializers.SerializerMethodField()
    access = serializers.SerializerMethodField()

    class Meta:
        model = Record
        fields = ["id", "family_name", "given_names", "birth_date", "sex", "ins", "ins_system", "is_own", "access"]

    def get_is_own(self, record: Record) -> bool:
        return record.owner_id == self.context["request"].user.pk

    @extend_schema_field(DelegatedAccessSerializer(allow_null=True))
    def get_access(self, record: Record) -> dict | None:
        """For a record you reach as someone's caregiver: the delegation and its scopes; otherwise null."""
        delegation = self.context.get("delegations", {}).get(record.pk)
        if delegation is None or self.get_is_own(record):
            return None
        return {"basis": "delegation", "scopes": list(delegation.scopes)}


class AccessSerializer(serializers.Serializer):
    basis = serializers.CharField()
    reason = serializers.CharField()


class RecordDetailSerializer(RecordSerializer):
    access = serializers.SerializerMethodField()

    @extend_schema_field(AccessSerializer)
    def get_access(self, record: Record) -> dict[str, str]:
        decision = self.context["decision"]
        return {"basis": decision.basis, "reason": decision.reason}


class DependentCreateSerializer(serializers.Serializer):
    family_name = serializers.CharField(max_length=150)
    given_names = serializers.CharField(max_length=150)
    birth_date = serializers.DateField(validators=[validate_birth_date])
    sex = serializers.ChoiceField(choices=Sex.choices)
    ins = serializers.CharField(max_length=15, required=False, allow_blank=True, validators=[ins_validator])


class RecordListApi(APIView):
    @extend_schema(responses=RecordSerializer(many=True), summary="Records you may open")
    def get(self, request):
        records = selectors.records_for(actor=request.user)
        delegations = {delegation.record_id: delegation for delegation in delegations_of(user=request.user)}
        context = {"request": request, "delegations": delegations}
        return Response(RecordSerializer(records, many=True, context=context).data)

    @extend_schema(request=DependentCreateSerializer, responses={201: RecordSerializer}, summary="Add a child's record")
    def post(self, request):
        serializer = DependentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        identity = dict(serializer.validated_data)
        if identity.get("ins"):
            identity["ins_system"] = InsSystem.NIR
        try:
            record = services.dependent_create(parent=request.user, **identity)
        except PermissionDenied as error:
            raise ApiPermissionDenied(str(error)) from None
        except ValidationError as error:
            raise ApiValidationError(error.message_dict) from None
        return Response(RecordSerializer(record, context={"request": request}).data, status=status.HTTP_201_CREATED)


class RecordDetailApi(APIView):
    @extend_schema(responses=RecordDetailSerializer, summary="One record, with the basis of your access")
    def get(self, request, record_uuid):
        record, decision = selectors.record_get_for(actor=request.user, record_uuid=record_uuid)
        return Response(RecordDetailSerializer(record, context={"request": request, "decision": decision}).data)
