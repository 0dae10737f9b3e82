from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer


def user_group(user_uuid) -> str:
    return f"user-{user_uuid}"


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
        await self.send_json({"type": "notification", "data": event.get("data", {})})
