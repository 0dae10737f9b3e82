from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.accounts import two_factor
from apps.accounts.models import User


class MeSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    two_factor = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "display_name", "role", "profession", "two_factor"]

    def get_two_factor(self, user: User) -> bool:
        return two_factor.has_two_factor(user)


class MeApi(APIView):
    @extend_schema(responses=MeSerializer, summary="The account you are using")
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, help_text="The e-mail address, or give login_id instead.")
    login_id = serializers.CharField(
        required=False, max_length=60, help_text="The login identifier of an account opened with a printed letter."
    )
    password = serializers.CharField(style={"input_type": "password"})
    otp = serializers.CharField(
        required=False, allow_blank=True, help_text="Required when the account has two-step verification."
    )

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("email") and not attrs.get("login_id"):
            raise serializers.ValidationError(_("Give your e-mail address or your login identifier."))
        return attrs


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class TokenApi(APIView):
    """Exchange e-mail (or login identifier), password and (when set up) a one-time code for an API token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(request=TokenRequestSerializer, responses=TokenResponseSerializer, summary="Get an API token")
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        login = (data.validated_data.get("email") or data.validated_data.get("login_id", "")).strip().lower()
        user = authenticate(request, username=login, password=data.validated_data["password"])
        if user is None or not user.is_active:
            raise AuthenticationFailed(_("E-mail or password is not correct."))
        if (
            not user.signs_in_without_email
            and not EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()
        ):
            raise AuthenticationFailed(_("Confirm your e-mail address first, with the link we sent you."))
        if two_factor.has_two_factor(user):
            try:
                device = two_factor.otp_verify(user=user, token=data.validated_data.get("otp", ""))
            except two_factor.TwoFactorLocked:
                raise AuthenticationFailed(_("Too many wrong codes: code entry is locked for a while.")) from None
            if device is None:
                raise AuthenticationFailed(_("A valid two-step verification code is required."))
        elif user.requires_two_factor:
            raise AuthenticationFailed(_("Set up two-step verification on the website first."))
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
