"""REST face of the medical profile: the same services as the pages, the same messages."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.access.policy import Action
from apps.clinical import profile
from apps.clinical.models import FactKind, RectificationRequest
from apps.clinical.status import FactState
from apps.records.selectors import record_get_for


class RectificationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)

    class Meta:
        model = RectificationRequest
        fields = ["id", "reason", "created_at", "withdrawn_at"]


class ProfileFactSerializer(serializers.Serializer):
    """One fact with where it comes from: a document, a declaration, or a deleted source."""

    id = serializers.UUIDField(source="fact.uuid")
    kind = serializers.CharField(source="fact.kind")
    display = serializers.CharField(source="fact.display")
    name = serializers.CharField(read_only=True, help_text="The short name in the reader's language (else the display)")
    code_system = serializers.CharField(source="fact.code_system")
    code = serializers.CharField(source="fact.code")
    status = serializers.CharField(source="fact.status", help_text="The source's own status, as written")
    state = serializers.ChoiceField(
        choices=FactState.choices,
        help_text="Our state by the one status rule, the same on the summary, the profile, the PDF and the APIs",
    )
    source_status = serializers.CharField(help_text="The source's own status, as written (same as status)")
    last_confirmed = serializers.DateField(
        allow_null=True, help_text="The latest date any document (or the person) stated this thing"
    )
    assertion = serializers.CharField(source="fact.assertion", help_text="present, absent (ruled out) or none_known")
    effective_date = serializers.DateField(source="fact.effective_date", allow_null=True)
    value = serializers.DecimalField(source="fact.value_decimal", max_digits=20, decimal_places=6, allow_null=True)
    value_text = serializers.CharField(source="fact.value_text")
    unit = serializers.CharField(source="fact.unit")
    detail = serializers.CharField(source="fact.detail")
    origin = serializers.CharField(source="fact.origin")
    declared_by = serializers.SerializerMethodField()
    source_document = serializers.SerializerMethodField()
    source_label = serializers.CharField()
    source_deleted = serializers.BooleanField()
    source_withheld = serializers.BooleanField(
        help_text="From a document the reader may not see: its id and title are left out"
    )
    rectifications = RectificationSerializer(many=True)

    def get_declared_by(self, item: profile.ProfileFact) -> str | None:
        return item.fact.declared_by_label if item.declared else None

    def get_source_document(self, item: profile.ProfileFact) -> str | None:
        document = item.source_document
        return str(document.uuid) if document is not None else None


class FactInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FactKind.choices)
    display = serializers.CharField(required=False, allow_blank=True, default="")
    effective_date = serializers.DateField(required=False, allow_null=True, default=None)
    # Text: the service reads "72.5" and "72,5" alike and says what it accepts.
    value = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)
    unit = serializers.CharField(required=False, allow_blank=True, default="")
    code_system = serializers.CharField(required=False, allow_blank=True, default="")
    code = serializers.CharField(required=False, allow_blank=True, default="")
    status = serializers.CharField(required=False, allow_blank=True, default="")
    detail = serializers.CharField(required=False, allow_blank=True, default="")


class FactChangeSerializer(FactInputSerializer):
    # A fact keeps its kind: DRF drops an inherited field set to None (an idiom its stubs do not know).
    kind = None  # type: ignore[assignment]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, partial=True, **kwargs)


class RectificationInputSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


def _fact(request, fact_uuid) -> profile.ProfileFact:
    return profile.fact_get_for(actor=request.user, fact_uuid=fact_uuid)


class RecordProfileFactsApi(APIView):
    @extend_schema(responses=ProfileFactSerializer(many=True), summary="The medical profile: every fact, by kind")
    def get(self, request, record_uuid):
        medical = profile.profile_get(actor=request.user, record_uuid=record_uuid)
        return Response(ProfileFactSerializer(medical.facts, many=True).data)

    @extend_schema(
        request=FactInputSerializer,
        responses={201: ProfileFactSerializer},
        summary="Declare a fact (a measurement must be a known one, in an accepted unit and range)",
    )
    def post(self, request, record_uuid):
        record, _decision = record_get_for(actor=request.user, record_uuid=record_uuid, action=Action.PROFILE_EDIT)
        data = FactInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fact = profile.fact_declare(actor=request.user, record=record, **data.validated_data)
        return Response(ProfileFactSerializer(profile.ProfileFact(fact=fact)).data, status=status.HTTP_201_CREATED)


class ProfileFactApi(APIView):
    @extend_schema(responses=ProfileFactSerializer, summary="One fact of the medical profile")
    def get(self, request, fact_uuid):
        return Response(ProfileFactSerializer(_fact(request, fact_uuid)).data)

    @extend_schema(
        request=FactChangeSerializer,
        responses=ProfileFactSerializer,
        summary="Change a declared fact (facts from a document cannot be changed: 400)",
    )
    def patch(self, request, fact_uuid):
        change = FactChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        fields = {name: value for name, value in change.validated_data.items() if name in request.data}
        fact = profile.fact_update(actor=request.user, fact_uuid=fact_uuid, **fields)
        return Response(ProfileFactSerializer(profile.ProfileFact(fact=fact)).data)

    @extend_schema(responses={204: None}, summary="Delete a declared fact (facts from a document cannot: 400)")
    def delete(self, request, fact_uuid):
        profile.fact_delete(actor=request.user, fact_uuid=fact_uuid)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FactRectificationsApi(APIView):
    @extend_schema(
        request=RectificationInputSerializer,
        responses={201: RectificationSerializer},
        summary="Say that a fact from a document is wrong; the note is kept with it",
    )
    def post(self, request, fact_uuid):
        data = RectificationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rectification = profile.rectification_request(
            actor=request.user, fact_uuid=fact_uuid, reason=data.validated_data["reason"]
        )
        return Response(RectificationSerializer(rectification).data, status=status.HTTP_201_CREATED)
