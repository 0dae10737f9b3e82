"""REST face of documents, facts and notifications: the same services as the pages."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.access.policy import Action
from apps.clinical.models import ClinicalFact, FactKind
from apps.clinical.naming import display_name
from apps.clinical.selectors import facts_visible_to
from apps.records import documents, selectors
from apps.records.document_views import TimelineFilterForm, _content_response
from apps.records.models import Document, DocumentCategory
from apps.records.timeline import documents_timeline
from healthspace.api_errors import PresentBooleanField


class FactSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    source_document = serializers.SerializerMethodField()
    source_withheld = serializers.SerializerMethodField(
        help_text="From a document the reader may not see: its id is left out"
    )
    name = serializers.SerializerMethodField(help_text="The short name in the reader's language (else the display)")

    class Meta:
        model = ClinicalFact
        fields = [
            "id",
            "kind",
            "code_system",
            "code",
            "display",
            "name",
            "code_known",
            "status",
            "effective_date",
            "effective_end",
            "value_decimal",
            "value_text",
            "unit",
            "reference_low",
            "reference_high",
            "reference_text",
            "interpretation",
            "detail",
            "source_document",
            "source_withheld",
        ]

    def _withheld(self, fact: ClinicalFact) -> bool:
        # A record's list passes the documents its reader may see; a document's own facts need none.
        shown: selectors.ShownDocuments | None = self.context.get("shown_documents")
        return shown is not None and fact.source_document_id is not None and not shown.shows(fact.source_document_id)

    def get_source_document(self, fact: ClinicalFact) -> str | None:
        document = fact.source_document
        return str(document.uuid) if document and not self._withheld(fact) else None

    def get_source_withheld(self, fact: ClinicalFact) -> bool:
        return self._withheld(fact)

    def get_name(self, fact: ClinicalFact) -> str:
        return display_name(code_system=fact.code_system, code=fact.code, display=fact.display)


class DocumentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    record = serializers.UUIDField(source="record.uuid", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    rejection_reason = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "record",
            "title",
            "category",
            "type_code",
            "type_display",
            "care_date",
            "care_date_source",
            "patient_deceased",
            "patient_deceased_on",
            "identity_flags",
            "author_name",
            "author_profession",
            "organisation",
            "source",
            "status",
            "status_label",
            "rejection_code",
            "rejection_reason",
            "content_hash",
            "size",
            "mime_type",
            "original_filename",
            "masked",
            "has_active_content",
            "created_at",
            "processed_at",
        ]

    def get_rejection_reason(self, document: Document) -> str:
        return documents.rejection_message(document.rejection_code) if document.rejection_code else ""


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    care_date = serializers.DateField(
        required=False, help_text="The date of care, when the document does not say it (not in the future)"
    )


class DocumentDetailSerializer(DocumentSerializer):
    facts = FactSerializer(many=True, read_only=True)

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "facts"]


class DocumentChangeSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, required=False)
    category = serializers.ChoiceField(choices=DocumentCategory.choices, required=False)
    care_date = serializers.DateField(
        required=False, help_text="The date of care, set by the person: it wins over one the document states"
    )
    masked = PresentBooleanField(required=False)


def _record(request, record_uuid, action=Action.RECORD_VIEW):
    record, _decision = selectors.record_get_for(actor=request.user, record_uuid=record_uuid, action=action)
    return record


def _document(request, document_uuid, action=Action.DOCUMENT_READ) -> Document:
    return documents.document_get_for(actor=request.user, document_uuid=document_uuid, action=action)


FILTER_PARAMETERS = [
    OpenApiParameter("q", str, description="Full-text search in titles and text"),
    OpenApiParameter("category", str, enum=DocumentCategory.values),
    OpenApiParameter("source", str),
    OpenApiParameter("author", str),
    OpenApiParameter("organisation", str),
    OpenApiParameter("date_from", OpenApiTypes.DATE),
    OpenApiParameter("date_to", OpenApiTypes.DATE),
    OpenApiParameter("after", str, description="Cursor from the previous page's `next`"),
]


class RecordDocumentsApi(APIView):
    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(
        parameters=FILTER_PARAMETERS,
        responses=inline_serializer(
            "DocumentPage", {"results": DocumentSerializer(many=True), "next": serializers.CharField()}
        ),
        summary="A record's documents, newest first (keyset paging)",
    )
    def get(self, request, record_uuid):
        record = _record(request, record_uuid)
        form = TimelineFilterForm(request.query_params)
        if request.query_params and not form.is_valid():
            raise ValidationError(form.errors)  # type: ignore[arg-type]  # ErrorDict: a dict of error lists, rendered as is
        page = documents_timeline(
            actor=request.user, record=record, filters=form.filters(), cursor=request.query_params.get("after", "")
        )
        return Response({"results": DocumentSerializer(page.documents, many=True).data, "next": page.next_cursor})

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        responses={201: DocumentSerializer, 200: DocumentSerializer},
        summary="Upload a document (stored before the answer; imported in the background)",
    )
    def post(self, request, record_uuid):
        record = _record(request, record_uuid, action=Action.DOCUMENT_UPLOAD)
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": ["Send the document in a multipart field named 'file'."]})
        fields = UploadSerializer(data=request.data)
        fields.is_valid(raise_exception=True)  # a date that is not a date; whether it can be right, the service says
        outcome = documents.document_upload(
            actor=request.user,
            record=record,
            filename=upload.name,
            data=upload.read(),
            care_date=fields.validated_data.get("care_date"),
        )
        data = DocumentSerializer(outcome.document).data
        data["duplicate"] = outcome.duplicate
        return Response(data, status=status.HTTP_200_OK if outcome.duplicate else status.HTTP_201_CREATED)


class DocumentApi(APIView):
    @extend_schema(responses=DocumentDetailSerializer, summary="One document: metadata, status, reason, facts")
    def get(self, request, document_uuid):
        return Response(DocumentDetailSerializer(_document(request, document_uuid)).data)

    @extend_schema(request=DocumentChangeSerializer, responses=DocumentSerializer, summary="Rename, recategorise, mask")
    def patch(self, request, document_uuid):
        change = DocumentChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        try:
            document = None
            if {"title", "category", "care_date"} & set(change.validated_data):
                document = documents.document_update(
                    actor=request.user,
                    document_uuid=document_uuid,
                    title=change.validated_data.get("title"),
                    category=change.validated_data.get("category"),
                    care_date=change.validated_data.get("care_date"),
                )
            if "masked" in change.validated_data:
                document = documents.document_set_masked(
                    actor=request.user, document_uuid=document_uuid, masked=change.validated_data["masked"]
                )
        except ValueError as error:
            raise ValidationError({"detail": str(error)}) from None
        # Nothing to change is still an attempt to edit: decided and journaled as one.
        return Response(
            DocumentSerializer(document or _document(request, document_uuid, action=Action.DOCUMENT_EDIT)).data
        )

    @extend_schema(responses={204: None}, summary="Delete a document and its content")
    def delete(self, request, document_uuid):
        documents.document_delete(actor=request.user, document_uuid=document_uuid)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DocumentContentApi(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}, summary="Download the content")
    def get(self, request, document_uuid):
        document, data = documents.document_content(actor=request.user, document_uuid=document_uuid)
        response: HttpResponse = _content_response(
            data,
            inline=False,
            mime_type=document.mime_type or "application/octet-stream",
            filename=document.original_filename,
        )
        return response


class RecordFactsApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("kind", str, enum=FactKind.values)],
        responses=FactSerializer(many=True),
        summary="A record's structured facts, each with its source document",
    )
    def get(self, request, record_uuid):
        record, decision = selectors.record_get_for(
            actor=request.user, record_uuid=record_uuid, action=Action.PROFILE_READ
        )
        facts = facts_visible_to(actor=request.user, record=record, decision=decision)
        kind = request.query_params.get("kind")
        if kind:
            if kind not in FactKind.values:
                raise ValidationError({"kind": [f"One of: {', '.join(FactKind.values)}."]})
            facts = facts.filter(kind=kind)
        page = list(facts.order_by("kind", "-effective_date", "id")[:2000])
        shown = selectors.documents_shown_to(
            actor=request.user, record=record, among=(fact.source_document_id for fact in page)
        )
        return Response(FactSerializer(page, many=True, context={"shown_documents": shown}).data)
