"""REST face of account help and activation letters: the same services as the web pages."""

from __future__ import annotations

import dataclasses

from allauth.core import ratelimit
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.access.policy import Action, journal_note
from apps.access.refusals import RecordUnavailable
from apps.assistance.letters import services as letters
from apps.assistance.models import AccountLetter
from apps.assistance.selectors import account_state
from apps.records import selectors
from apps.records.models import Record
from healthspace.api_refusals import refused_schema

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


def _refuse_non_agent(request, record_uuid) -> None:
    """Account help is a support agent's act: anyone else is refused like a missing record, journaled."""
    if not request.user.is_support_agent:
        raise RecordUnavailable(
            journal_note(
                actor=request.user,
                record_uuid=record_uuid,
                action=Action.ACCOUNT_HELP,
                allowed=False,
                reason_code="not_allowed",
            )
        )


def _agent_record(request, record_uuid) -> Record:
    _refuse_non_agent(request, record_uuid)
    return letters.record_for_account_help(agent=request.user, record_uuid=record_uuid)


class AccountStateApi(APIView):
    @extend_schema(
        responses=AccountStateSerializer,
        summary="A person's account state and letters (support agent under mandate; no medical content)",
    )
    def get(self, request, record_uuid):
        _refuse_non_agent(request, record_uuid)
        record, _decision = selectors.record_get_for(actor=request.user, record_uuid=record_uuid)
        state = account_state(record=record)
        data = {**dataclasses.asdict(state), "letters": letters.letters_for(record=record)}
        return Response(AccountStateSerializer(data).data)


class AccountLetterApi(APIView):
    @extend_schema(
        request=None,
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            202: AccountLetterSerializer,
            400: REFUSED,
        },
        summary="A letter: activation printed at the desk (no account yet), or a new password sent to the person",
        description=(
            "No account yet: the activation letter's PDF (200). An existing account: the code goes to the "
            "person's confirmed e-mail or by post (202, the letter without its code); the agent never reads it. "
            "Each letter cancels the one before."
        ),
    )
    def post(self, request, record_uuid):
        record = _agent_record(request, record_uuid)
        letter, pdf = letters.letter_print(agent=request.user, record=record)
        if pdf is None:
            return Response(AccountLetterSerializer(letter).data, status=status.HTTP_202_ACCEPTED)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(True, f"letter-{letter.login_id}.pdf")
        response["X-Letter-Id"] = str(letter.uuid)
        return response


class SecondFactorResetApi(APIView):
    @extend_schema(
        request=None,
        responses={202: AccountLetterSerializer, 400: REFUSED},
        summary="Ask for a second-factor reset: a code goes to the person, who completes it with their password",
    )
    def post(self, request, record_uuid):
        record = _agent_record(request, record_uuid)
        letter = letters.second_factor_reset(agent=request.user, record=record)
        return Response(AccountLetterSerializer(letter).data, status=status.HTTP_202_ACCEPTED)


class ActivationSerializer(serializers.Serializer):
    login_id = serializers.CharField(max_length=60, help_text="Printed on the letter.")
    code = serializers.CharField(max_length=20, help_text="Printed on the letter; dashes and spaces do not matter.")
    password = serializers.CharField(
        style={"input_type": "password"},
        help_text="The new password; for a second-factor reset letter, the password the person logs in with.",
    )
    email = serializers.EmailField(required=False, allow_blank=True, help_text="Optional; confirmed by a link.")


class ActivationApi(APIView):
    """No account yet: the letter is the proof. Rate-limited, and five wrong codes cancel the letter."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    rate_limited = True  # allauth's limiter answers 429 (documented by healthspace.api_schema)

    @extend_schema(
        request=ActivationSerializer,
        responses={
            201: inline_serializer("ActivationDone", {"login_id": serializers.CharField()}),
            400: REFUSED,
        },
        summary="Use a letter: open the account, set a new password, or reset the second factor",
    )
    def post(self, request):
        data = ActivationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if not ratelimit.consume(request._request, action="activation", key=values["login_id"].strip().lower()):
            return Response(
                {"detail": _("Too many tries. Wait 10 minutes, then try again.")},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        letter = letters.letter_check(login_id=values["login_id"], code=values["code"])
        user = letters.letter_use(
            request=request._request,
            letter_uuid=letter.uuid,
            password=values["password"],
            email=values.get("email", ""),
        )
        return Response({"login_id": user.login_id}, status=status.HTTP_201_CREATED)
