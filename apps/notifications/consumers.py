"""Live updates over WebSocket. Access is checked at connection and again before each push,
so a revoked access stops the flow at once (rule 1)."""

from __future__ import annotations

from uuid import UUID

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.access.policy import Action


def user_group(user_uuid) -> str:
    return f"user-{user_uuid}"


def record_group(record_uuid) -> str:
    return f"record-{record_uuid}"


@database_sync_to_async
def _may_follow(user, record_uuid: str, *, journal: bool) -> bool:
    from apps.access.policy import authorize, decide
    from apps.records.models import Record

    try:
        record = Record.objects.filter(uuid=UUID(str(record_uuid))).first()
    except ValueError:
        return False
    if record is None:
        return False
    check = authorize if journal else decide
    return check(actor=user, record=record, action=Action.DOCUMENT_LIST).allowed


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    """Live notices for the logged-in person; anonymous connections are closed."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = user_group(user.uuid)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def notify(self, event: dict) -> None:
        data = event.get("data", {})
        if data.get("record") and not await _may_follow(self.scope["user"], data["record"], journal=False):
            return
        await self.send_json({"type": "notification", "data": data})


class RecordConsumer(AsyncJsonWebsocketConsumer):
    """Status changes of one record's documents, for whoever may list them."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        record_uuid = self.scope["url_route"]["kwargs"]["record_uuid"]
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        if not await _may_follow(user, record_uuid, journal=True):
            await self.close(code=4403)
            return
        self.record_uuid = str(record_uuid)
        self.group = record_group(record_uuid)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def document_status(self, event: dict) -> None:
        if not await _may_follow(self.scope["user"], self.record_uuid, journal=False):
            await self.close(code=4403)
            return
        await self.send_json({"type": "document", "data": event.get("data", {})})
