"""REST face of consents: the same selectors and services as the pages."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.consents.directives.selectors import directives_documents, directives_get_for
from apps.consents.directives.services import directives_update
from apps.consents.models import OrganDonation, PersonalDirectives, phone_validator


class DirectivesSerializer(serializers.Serializer):
    """PUT replaces the whole: a field left out goes back to empty (or "not_stated")."""

    trusted_person_name = serializers.CharField(max_length=200, allow_blank=True, default="")
    trusted_person_relationship = serializers.CharField(max_length=100, allow_blank=True, default="")
    trusted_person_phone = serializers.CharField(
        max_length=30, allow_blank=True, default="", validators=[phone_validator]
    )
    trusted_person_email = serializers.EmailField(allow_blank=True, default="")
    advance_directives_text = serializers.CharField(allow_blank=True, default="", trim_whitespace=False)
    advance_directives_document = serializers.UUIDField(allow_null=True, default=None)
    organ_donation = serializers.ChoiceField(choices=OrganDonation.choices, default=OrganDonation.NOT_STATED)
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def to_representation(self, directives: PersonalDirectives) -> dict:
        # The linked document as this reader may see it (the view's), never the raw link.
        document = self.context.get("document")
        return {
            "trusted_person_name": directives.trusted_person_name,
            "trusted_person_relationship": directives.trusted_person_relationship,
            "trusted_person_phone": directives.trusted_person_phone,
            "trusted_person_email": directives.trusted_person_email,
            "advance_directives_text": directives.advance_directives_text,
            "advance_directives_document": str(document.uuid) if document else None,
            "organ_donation": directives.organ_donation,
            "updated_at": directives.updated_at.isoformat() if directives.pk else None,
        }


class DirectivesApi(APIView):
    @extend_schema(responses=DirectivesSerializer, summary="Personal directives: trusted person, advance directives")
    def get(self, request, record_uuid):
        view = _view(request, record_uuid)
        return Response(DirectivesSerializer(view.directives, context={"document": view.document}).data)

    @extend_schema(
        request=DirectivesSerializer, responses=DirectivesSerializer, summary="Replace the personal directives"
    )
    def put(self, request, record_uuid):
        view = _view(request, record_uuid)
        if not view.can_edit:
            _refuse_edit(request, view.record)
        serializer = DirectivesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        document_uuid = fields.pop("advance_directives_document")
        document = None
        if document_uuid is not None:
            document = directives_documents(actor=request.user, record=view.record).filter(uuid=document_uuid).first()
            if document is None:
                raise ApiValidationError(
                    {"advance_directives_document": [_("Choose a report or another document of this same record.")]}
                )
        if document is not None or not view.links_unseen_document:
            fields["advance_directives_document"] = document  # a link they cannot see, they do not undo
        try:
            directives = directives_update(actor=request.user, record=view.record, **fields)
        except ValidationError as error:
            raise ApiValidationError(error.message_dict) from None
        return Response(DirectivesSerializer(directives, context={"document": document}).data)


def _view(request, record_uuid):
    return directives_get_for(actor=request.user, record_uuid=record_uuid)


def _refuse_edit(request, record) -> None:
    """A reader who may not change: the service journals the refusal and raises."""
    directives_update(actor=request.user, record=record)
    raise NotFound()  # not reached: the policy refused the edit a moment ago
