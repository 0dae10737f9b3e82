"""Breach 8: WebSockets skipped the second factor: a session that passed only the password step
received live pushes. Tested against the real ASGI application (origin check, cookies, session,
auth, our second-factor middleware, router), with the session cookie the browser holds."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from apps.accounts.middleware import SESSION_LOGIN_AT_KEY
from apps.notifications.consumers import CLOSE_UNAUTHENTICATED, record_group, user_group
from healthspace.asgi import application
from tests.accounts.helpers import password_login
from tests.conftest import current_code, logged_in_client
from tests.factories import totp_device

pytestmark = pytest.mark.django_db(transaction=True)

VERIFY = "/account/security/two-factor/verify/"


def _connect_and_listen(client: Client, path: str, group: str, event: dict) -> tuple[bool, object]:
    """Opens ``path`` with the client's cookies; if accepted, pushes ``event`` to ``group``
    and returns what arrived; if refused, returns the close code."""

    async def scenario():
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        communicator = WebsocketCommunicator(
            application, path, headers=[(b"cookie", cookie.encode()), (b"origin", b"http://testserver")]
        )
        connected, code = await communicator.connect()
        if not connected:
            return False, code
        await get_channel_layer().group_send(group, event)
        message = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return True, message

    return async_to_sync(scenario)()


def _notifications(client: Client, user) -> tuple[bool, object]:
    return _connect_and_listen(
        client, "/ws/notifications/", user_group(user.uuid), {"type": "notify", "data": {"title": "hello"}}
    )


def test_password_only_session_of_a_professional_gets_no_live_notices(dr_martin):
    client = Client()
    password_login(client, "dr.martin@example.test")  # the code is still to be given

    assert _notifications(client, dr_martin) == (False, CLOSE_UNAUTHENTICATED)


def test_the_same_session_gets_live_notices_once_the_code_is_given(dr_martin):
    client = Client()
    password_login(client, "dr.martin@example.test")
    client.post(VERIFY, {"token": current_code(dr_martin)})

    assert _notifications(client, dr_martin) == (True, {"type": "notification", "data": {"title": "hello"}})


def test_password_only_session_of_a_patient_with_two_factor_gets_no_live_notices(alice):
    totp_device(alice)
    client = logged_in_client(alice, verified=False)

    assert _notifications(client, alice) == (False, CLOSE_UNAUTHENTICATED)


def test_password_only_session_gets_no_document_status_of_a_record(sam, alice, alice_record):
    from tests.factories import DocumentFactory

    client = logged_in_client(alice, verified=True)  # alice has no second factor: she may follow
    document = DocumentFactory(record=alice_record)  # a status is sent only for a document the reader may see
    event = {"type": "document.status", "data": {"document": str(document.uuid), "status": "ready"}}
    path = f"/ws/records/{alice_record.uuid}/"
    assert _connect_and_listen(client, path, record_group(alice_record.uuid), event)[0] is True

    agent = logged_in_client(sam, verified=False)

    assert _connect_and_listen(agent, path, record_group(alice_record.uuid), event) == (False, CLOSE_UNAUTHENTICATED)


def test_a_worker_without_any_second_factor_gets_no_live_notices(db):
    from tests.factories import ProfessionalFactory

    doctor = ProfessionalFactory(email="dr.new@example.test")  # must set one up first
    client = logged_in_client(doctor)

    assert _notifications(client, doctor) == (False, CLOSE_UNAUTHENTICATED)


def test_a_session_past_its_absolute_timeout_gets_no_live_notices(dr_martin):
    client = logged_in_client(dr_martin)
    client.get("/")  # stamps the login time
    session = client.session
    session[SESSION_LOGIN_AT_KEY] -= settings.SESSION_ABSOLUTE_SECONDS + 60
    session.save()

    assert _notifications(client, dr_martin) == (False, CLOSE_UNAUTHENTICATED)


def test_a_patient_without_two_factor_still_gets_live_notices(alice):
    client = Client()
    password_login(client, "alice@example.test")

    assert _notifications(client, alice) == (True, {"type": "notification", "data": {"title": "hello"}})


def test_an_open_socket_closes_when_the_session_reaches_its_absolute_timeout(dr_martin):
    import time
    from unittest import mock

    client = logged_in_client(dr_martin)
    client.get("/")  # stamps the login time
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    later = time.time() + settings.SESSION_ABSOLUTE_SECONDS + 60

    async def scenario():
        communicator = WebsocketCommunicator(
            application, "/ws/notifications/", headers=[(b"cookie", cookie.encode()), (b"origin", b"http://testserver")]
        )
        connected, _ = await communicator.connect()
        assert connected
        # Still connected twelve hours later: the next push finds the session over.
        with mock.patch("apps.accounts.middleware.time", time=lambda: later):
            await get_channel_layer().group_send(user_group(dr_martin.uuid), {"type": "notify", "data": {"title": "x"}})
            return await communicator.receive_output(timeout=5)

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
