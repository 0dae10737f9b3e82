"""REST face of account help and activation letters: the same services as the web pages."""

from __future__ import annotations

import dataclasses

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.assistance import letters
from apps.assistance.models import AccountLetter
from apps.assistance.selectors import account_state
from apps.records import selectors
from apps.records.models import Record
from healthspace.api_refusals import refused, refused_schema

REFUSED = refused_schema("LetterRefused")


class AccountLetterSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid")
    kind = serializers.CharField(help_text="activation or new_password")
    agent = serializers.CharField(source="agent.__str__")
    state = serializers.SerializerMethodField()

    class Meta:
        model = AccountLetter
        fields = ["id", "kind", "login_id", "agent", "created_at", "expires_at", "used_at", "cancelled_at", "state"]

    def get_state(self, letter: AccountLetter) -> str:
        """open, used, cancelled or expired."""
        return letter.state()


class AccountStateSerializer(serializers.Serializer):
    has_account = serializers.BooleanField()
    active = serializers.BooleanField()
    login_id = serializers.CharField()
    has_email = serializers.BooleanField()
    email_confirmed = serializers.BooleanField()
    two_factor = serializers.BooleanField()
    locked_until = serializers.DateTimeField(allow_null=True)
    letters = AccountLetterSerializer(many=True)


def _agent_record(request, record_uuid) -> Record:
    if not request.user.is_support_agent:
        raise NotFound()
    try:
        return letters.record_for_account_help(agent=request.user, record_uuid=record_uuid)
    except selectors.RecordUnavailable:
        raise NotFound() from None


class AccountStateApi(APIView):
    @extend_schema(
        responses=AccountStateSerializer,
        summary="A person's account state and letters (support agent under mandate; no medical content)",
    )
    def get(self, request, record_uuid):
        if not request.user.is_support_agent:
            raise NotFound()
        try:
            record, _decision = selectors.record_get_for(actor=request.user, record_uuid=record_uuid)
        except selectors.RecordUnavailable:
            raise NotFound() from None
        state = account_state(record=record)
        data = {**dataclasses.asdict(state), "letters": letters.letters_for(record=record)}
        return Response(AccountStateSerializer(data).data)


class AccountLetterApi(APIView):
    @extend_schema(
        request=None,
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 400: REFUSED},
        summary="Print a letter: activation (no account yet) or a new password (mandate with account help)",
        description="Each letter cancels the one before. The code is only on the PDF; it is never stored.",
    )
    def post(self, request, record_uuid):
        record = _agent_record(request, record_uuid)
        try:
            letter, pdf = letters.letter_print(agent=request.user, record=record)
        except selectors.RecordUnavailable:
            raise NotFound() from None
        except letters.LetterRefused as refusal:
            return refused(refusal.message)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="letter-{letter.login_id}.pdf"'
        response["X-Letter-Id"] = str(letter.uuid)
        return response


class SecondFactorResetApi(APIView):
    @extend_schema(
        request=None,
        responses={204: None, 400: REFUSED},
        summary="Remove the person's second factor and lift a lock-out (mandate with account help)",
    )
    def post(self, request, record_uuid):
        record = _agent_record(request, record_uuid)
        try:
            letters.second_factor_reset(agent=request.user, record=record)
        except selectors.RecordUnavailable:
            raise NotFound() from None
        except letters.LetterRefused as refusal:
            return refused(refusal.message)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActivationSerializer(serializers.Serializer):
    login_id = serializers.CharField(max_length=60, help_text="Printed on the letter.")
    code = serializers.CharField(max_length=20, help_text="Printed on the letter; dashes and spaces do not matter.")
    password = serializers.CharField(style={"input_type": "password"})
    email = serializers.EmailField(required=False, allow_blank=True, help_text="Optional; confirmed by a link.")


class ActivationApi(APIView):
    """No account yet: the letter is the proof. Rate-limited, and five wrong codes cancel the letter."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "activation"

    @extend_schema(
        request=ActivationSerializer,
        responses={
            201: inline_serializer("ActivationDone", {"login_id": serializers.CharField()}),
            400: REFUSED,
        },
        summary="Use a printed letter: open the account (or set a new password) with the person's password",
    )
    def post(self, request):
        data = ActivationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            letter = letters.letter_check(login_id=values["login_id"], code=values["code"])
            user = letters.letter_use(
                request=request._request,
                letter_uuid=letter.uuid,
                password=values["password"],
                email=values.get("email", ""),
            )
        except letters.LetterRefused as refusal:
            return refused(refusal.message)
        return Response({"login_id": user.login_id}, status=status.HTTP_201_CREATED)
