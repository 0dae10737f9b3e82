"""Live document statuses go only to readers who may see the document (issue 12, crawler finding):
the same restrictions as the record's list of documents (masked, confidential from the parents)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from apps.notifications.services import push_document_status, push_live
from tests.factories import DocumentFactory


def _verified(user):
    user.is_verified = lambda: True  # what the WebSocket's second-factor middleware installs
    return user


async def _heard(user, path: str, push) -> list[dict]:
    """What ``user``'s socket on ``path`` receives while ``push`` runs."""
    from healthspace.routing import websocket_urlpatterns

    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    communicator.scope["user"] = user
    connected, _code = await communicator.connect()
    assert connected
    await database_sync_to_async(push)()
    messages = []
    while not await communicator.receive_nothing(timeout=0.1):
        messages.append(await communicator.receive_json_from())
    await communicator.disconnect()
    return messages


def _statuses(record, *documents):
    def push():
        for document in documents:
            push_document_status(record_uuid=record.uuid, document_uuid=document.uuid, status=document.status)

    return push


@pytest.mark.django_db(transaction=True)
def test_masked_document_status_is_not_sent_to_a_professional_in_care(alice_record, dr_martin):
    from apps.access.models import CareRelationship

    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    masked = DocumentFactory(record=alice_record, masked=True)
    shown = DocumentFactory(record=alice_record)

    heard = async_to_sync(_heard)(
        _verified(dr_martin), f"/ws/records/{alice_record.uuid}/", _statuses(alice_record, masked, shown)
    )

    assert [message["data"]["document"] for message in heard] == [str(shown.uuid)]


@pytest.mark.django_db(transaction=True)
def test_masked_document_status_is_sent_to_the_owner(alice, alice_record):
    masked = DocumentFactory(record=alice_record, masked=True)

    heard = async_to_sync(_heard)(alice, f"/ws/records/{alice_record.uuid}/", _statuses(alice_record, masked))

    assert heard == [{"type": "document", "data": {"document": str(masked.uuid), "status": "ready"}}]


@pytest.mark.django_db(transaction=True)
def test_confidential_document_status_is_not_sent_to_the_parent(alice, alice_child):
    confidential = DocumentFactory(record=alice_child, confidential_from_parents=True)

    heard = async_to_sync(_heard)(alice, f"/ws/records/{alice_child.uuid}/", _statuses(alice_child, confidential))

    assert heard == []


@pytest.mark.django_db(transaction=True)
def test_a_parents_notice_does_not_name_a_document_made_confidential(alice, alice_child):
    from apps.notifications.services import notify

    confidential = DocumentFactory(record=alice_child, confidential_from_parents=True)
    notice = notify(
        recipient=alice,
        event="document_ready",
        dedup_key=f"document_ready:{confidential.uuid}",
        record_uuid=alice_child.uuid,
        document_uuid=confidential.uuid,
    )

    heard = async_to_sync(_heard)(alice, "/ws/notifications/", lambda: push_live(notification=notice))

    assert [(message["data"]["event"], message["data"]["document"]) for message in heard] == [("document_ready", "")]


@pytest.mark.django_db(transaction=True)
def test_a_parents_notice_names_a_document_they_may_see(alice, alice_child):
    from apps.notifications.services import notify

    document = DocumentFactory(record=alice_child)
    notice = notify(
        recipient=alice,
        event="document_ready",
        dedup_key=f"document_ready:{document.uuid}",
        record_uuid=alice_child.uuid,
        document_uuid=document.uuid,
    )

    heard = async_to_sync(_heard)(alice, "/ws/notifications/", lambda: push_live(notification=notice))

    assert [message["data"]["document"] for message in heard] == [str(document.uuid)]
