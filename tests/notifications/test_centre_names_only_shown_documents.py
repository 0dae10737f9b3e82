"""The notification centre (page and API) names a document only while the person may see it."""

from __future__ import annotations

from django.urls import reverse

from apps.notifications.models import Notification
from tests.factories import DocumentFactory


def _notice(recipient, record, document) -> Notification:
    return Notification.objects.create(
        recipient=recipient, event="document_ready", record_uuid=record.uuid, document_uuid=document.uuid
    )


def test_the_api_does_not_name_a_document_kept_from_the_parents(as_user, alice, alice_child):
    confidential = DocumentFactory(record=alice_child, confidential_from_parents=True)
    _notice(alice, alice_child, confidential)

    body = as_user(alice).get("/api/v1/notifications/").content.decode()

    assert str(confidential.uuid) not in body


def test_the_centre_page_does_not_link_a_document_kept_from_the_parents(as_user, alice, alice_child):
    confidential = DocumentFactory(record=alice_child, confidential_from_parents=True)
    _notice(alice, alice_child, confidential)

    body = as_user(alice).get(reverse("notification_centre")).content.decode()

    assert str(confidential.uuid) not in body


def test_the_centre_still_links_a_document_the_parent_may_see(as_user, alice, alice_child):
    shown = DocumentFactory(record=alice_child)
    _notice(alice, alice_child, shown)

    body = as_user(alice).get(reverse("notification_centre")).content.decode()

    assert reverse("document_detail", args=[shown.uuid]) in body
