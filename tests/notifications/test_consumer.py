from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
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


@pytest.mark.django_db(transaction=True)
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


@pytest.mark.django_db(transaction=True)
def test_a_person_does_not_receive_someone_elses_notifications(alice, charlie):
    async def scenario():
        communicator = _communicator(charlie)
        await communicator.connect()
        await get_channel_layer().group_send(user_group(alice.uuid), {"type": "notify", "data": {"title": "private"}})
        nothing = await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()
        return nothing

    assert async_to_sync(scenario)() is True


def _record_communicator(user, record_uuid) -> WebsocketCommunicator:
    from channels.routing import URLRouter

    from healthspace.routing import websocket_urlpatterns

    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/records/{record_uuid}/")
    communicator.scope["user"] = user
    return communicator


@pytest.mark.django_db(transaction=True)
def test_record_socket_for_someone_elses_record_is_closed(charlie, alice_record):
    async def scenario():
        return await _record_communicator(charlie, alice_record.uuid).connect()

    connected, code = async_to_sync(scenario)()
    assert not connected
    assert code == 4403


@pytest.mark.django_db(transaction=True)
def test_record_socket_without_a_session_is_closed(alice_record):
    async def scenario():
        return await _record_communicator(AnonymousUser(), alice_record.uuid).connect()

    connected, code = async_to_sync(scenario)()
    assert (connected, code) == (False, 4401)


@pytest.mark.django_db(transaction=True)
def test_record_socket_pushes_document_status_to_the_owner(alice, alice_record):
    from apps.notifications.consumers import record_group
    from tests.factories import DocumentFactory

    document = str(DocumentFactory(record=alice_record).uuid)

    async def scenario():
        communicator = _record_communicator(alice, alice_record.uuid)
        connected, _ = await communicator.connect()
        assert connected
        await get_channel_layer().group_send(
            record_group(alice_record.uuid),
            {"type": "document.status", "data": {"document": document, "status": "ready"}},
        )
        message = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return message

    assert async_to_sync(scenario)() == {"type": "document", "data": {"document": document, "status": "ready"}}


@pytest.mark.django_db(transaction=True)
def test_record_socket_closes_when_access_ends_mid_session(alice, alice_child):
    from django.utils import timezone

    from apps.notifications.consumers import record_group
    from apps.records.models import Guardianship

    async def scenario():
        communicator = _record_communicator(alice, alice_child.uuid)
        connected, _ = await communicator.connect()
        assert connected
        await database_sync_to_async(
            lambda: Guardianship.objects.filter(record=alice_child).update(ended_at=timezone.now())
        )()
        await get_channel_layer().group_send(
            record_group(alice_child.uuid), {"type": "document.status", "data": {"document": "d", "status": "ready"}}
        )
        return await communicator.receive_output(timeout=5)

    assert async_to_sync(scenario)()["type"] == "websocket.close"
