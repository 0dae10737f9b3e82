"""REST face of "signed-in apps and devices": the same services as the page."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.credentials import credentials_revoke_all
from apps.accounts.oauth import services


class SignInSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Identifies this sign-in; it stays the same when its tokens are refreshed.")
    application = serializers.CharField()
    signed_in_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField()
    scopes = serializers.ListField(child=serializers.CharField())


class EndedSerializer(serializers.Serializer):
    ended = serializers.IntegerField(help_text="How many tokens were revoked.")


class SignInsApi(APIView):
    @extend_schema(responses=SignInSerializer(many=True), summary="Apps and devices signed in to your account")
    def get(self, request):
        return Response(SignInSerializer(services.sign_ins_for(user=request.user), many=True).data)

    @extend_schema(
        request=None,
        responses={200: EndedSerializer},
        summary="Sign out every app and device",
        operation_id="auth_sign_ins_end_all",
    )
    def delete(self, request):
        return Response({"ended": credentials_revoke_all(user=request.user, reason="on_request")})


class SignInApi(APIView):
    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Signed out"), 404: OpenApiResponse(description="No such sign-in")},
        summary="Sign out one app or device",
    )
    def delete(self, request, sign_in_id):
        if not services.sign_in_end(user=request.user, sign_in_id=sign_in_id):
            raise NotFound(_("Not found."))
        return Response(status=status.HTTP_204_NO_CONTENT)
