"""Proof — Crawler, WebSocket half (issue 12): every consumer, as every persona, on every record of the
generated world; the application then sends what it really sends (each document's status to its
record's followers, each stored notification to its recipient), and nothing received may hold a
string the policy denies to that persona. Its own module: it needs real transactions (the consumers
read the database from another thread), which the page crawler's module-wide world would hold open.
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings

from tests.security.crawler_world import World, build_world, forbidden_for
from tests.security.test_crawler import client_for, leaks_in, report


def _socket_leaks(built: World, forbidden: dict[str, dict[str, str]]) -> tuple[list[str], dict[str, int]]:
    """Each persona opens every socket; the application then sends what it really sends: each document's
    status to its record's followers, and each stored notification to its recipient."""
    from apps.notifications.models import Notification
    from apps.notifications.services import push_document_status, push_live
    from healthspace.asgi import application

    found: list[str] = []
    received_by: dict[str, int] = {}
    for persona, user in built.personas.items():
        client = client_for(user)
        if user is not None:
            client.get("/")  # stamps the session as a browser's first page would
        cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
        headers = [(b"origin", b"http://testserver")]
        if cookie is not None:
            headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie.value}".encode()))
        sockets = [("/ws/notifications/", None)] + [(f"/ws/records/{r.uuid}/", r) for r in built.records.values()]
        for path, record in sockets:

            async def listen(path=path, record=record, headers=headers, user=user) -> list[str]:
                from channels.db import database_sync_to_async

                communicator = WebsocketCommunicator(application, path, headers=headers)
                connected, _code = await communicator.connect()
                if not connected:
                    return []
                if record is None:
                    notices = await database_sync_to_async(list)(Notification.objects.filter(recipient=user))
                    for notice in notices:
                        await database_sync_to_async(push_live)(notification=notice)
                else:
                    documents = await database_sync_to_async(list)(record.documents.all())
                    for document in documents:
                        await database_sync_to_async(push_document_status)(
                            record_uuid=record.uuid, document_uuid=document.uuid, status=document.status
                        )
                received = []
                while not await communicator.receive_nothing(timeout=0.05):
                    received.append(await communicator.receive_from())
                await communicator.disconnect()
                return received

            messages = async_to_sync(listen)()
            received_by[persona] = received_by.get(persona, 0) + len(messages)
            for message in messages:
                for value, why in leaks_in(message, path, forbidden[persona]):
                    found.append(f"{persona:20} WS {path} sent {value!r}: {why}")
    return found, received_by


@pytest.mark.django_db(transaction=True)
def test_no_websocket_sends_what_the_policy_denies():
    built = build_world()
    forbidden = {name: forbidden_for(built, user) for name, user in built.personas.items()}
    found, received_by = _socket_leaks(built, forbidden)
    # Not a vacuous crawl: the owner hears her documents and her notices; a stranger hears nothing.
    assert received_by["alice"] > len(built.documents)
    assert received_by["professional_nothing"] == 0
    assert not found, report(found)
