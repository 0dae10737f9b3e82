from channels.generic.websocket import WebsocketConsumer
from django.urls import path, re_path

from apps.notifications.consumers import NotificationConsumer, RecordConsumer


class NoSuchChannel(WebsocketConsumer):
    """Any other path (a record id that is not a uuid, a typo): closed at once, like a 404.

    Without it, channels' URLRouter raises ValueError("No route found") for the connection.
    """

    def connect(self) -> None:
        self.close()


websocket_urlpatterns = [
    path("ws/notifications/", NotificationConsumer.as_asgi()),
    path("ws/records/<uuid:record_uuid>/", RecordConsumer.as_asgi()),
    re_path(r"", NoSuchChannel.as_asgi()),
]
