from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.notifications import selectors, services
from apps.notifications.models import EmailMode, Notification, NotificationEvent


class NotificationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    text = serializers.CharField(source="get_event_display", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "event", "text", "record_uuid", "document_uuid", "params", "created_at", "read_at"]


class NotificationQuerySerializer(serializers.Serializer):
    unread = serializers.BooleanField(required=False)
    before = serializers.UUIDField(required=False)


class NotificationListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("unread", bool),
            OpenApiParameter("before", OpenApiTypes.UUID, description="id of the last item seen"),
        ],
        responses=NotificationSerializer(many=True),
        summary="Your notifications, newest first",
    )
    def get(self, request):
        # An empty parameter is the same as no parameter (a link built from an empty cursor).
        query = NotificationQuerySerializer(data={k: v for k, v in request.query_params.items() if v != ""})
        query.is_valid(raise_exception=True)
        before = query.validated_data.get("before")
        items = selectors.notifications_for(
            user=request.user,
            before_uuid=str(before) if before else "",
            unread_only=query.validated_data.get("unread", False),
        )
        return Response(NotificationSerializer(items, many=True).data)


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.UUIDField(), required=False, allow_null=True, max_length=1000)


class NotificationReadApi(APIView):
    @extend_schema(
        request=MarkReadSerializer,
        responses=inline_serializer("MarkedRead", {"marked": serializers.IntegerField()}),
        summary="Mark notifications read (all when no ids are given)",
    )
    def post(self, request):
        data = MarkReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data.get("ids")
        return Response({"marked": services.notifications_mark_read(user=request.user, uuids=ids)})


class UnreadCountApi(APIView):
    @extend_schema(
        responses=inline_serializer("UnreadCount", {"unread": serializers.IntegerField()}), summary="How many unread"
    )
    def get(self, request):
        return Response({"unread": services.unread_count(user=request.user)})


class PreferenceSerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=NotificationEvent.choices)
    in_app = serializers.BooleanField()
    email = serializers.ChoiceField(choices=EmailMode.choices)


class PreferencesApi(APIView):
    @extend_schema(responses=PreferenceSerializer(many=True), summary="What you are told, and how")
    def get(self, request):
        return Response(PreferenceSerializer(services.preferences_for(user=request.user), many=True).data)

    @extend_schema(
        request=PreferenceSerializer(many=True), responses=PreferenceSerializer(many=True), summary="Change them"
    )
    def put(self, request):
        data = PreferenceSerializer(data=request.data, many=True)
        data.is_valid(raise_exception=True)
        for item in data.validated_data:
            services.preference_set(user=request.user, **item)
        return Response(PreferenceSerializer(services.preferences_for(user=request.user), many=True).data)
