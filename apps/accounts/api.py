from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
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
