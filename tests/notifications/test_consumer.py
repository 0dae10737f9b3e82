from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing.websocket import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from apps.notifications.consumers import NotificationConsumer, user_group


def _communicator(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(NotificationConsumer.as_asgi(), "/ws/notifications/")
    communicator.scope["user"] = user
    return communicator


def test_websocket_without_a_session_is_closed():
    async def scenario():
        return await _communicator(AnonymousUser()).connect()

    connected, code = async_to_sync(scenario)()
    assert not connected
    assert code == 4401


@pytest.mark.django_db
def test_logged_in_person_receives_their_own_notifications(alice):
    async def scenario():
        communicator = _communicator(alice)
        connected, _ = await communicator.connect()
        assert connected
        await get_channel_layer().group_send(user_group(alice.uuid), {"type": "notify", "data": {"title": "hello"}})
        message = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return message

    assert async_to_sync(scenario)() == {"type": "notification", "data": {"title": "hello"}}


@pytest.mark.django_db
def test_a_person_does_not_receive_someone_elses_notifications(alice, charlie):
    async def scenario():
        communicator = _communicator(charlie)
        await communicator.connect()
        await get_channel_layer().group_send(user_group(alice.uuid), {"type": "notify", "data": {"title": "private"}})
        nothing = await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()
        return nothing

    assert async_to_sync(scenario)() is True
