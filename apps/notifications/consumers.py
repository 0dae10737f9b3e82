"""Live updates over WebSocket. Access is checked at connection and again before each push,
so a revoked access stops the flow at once (rule 1). A session that passed only the password
step of someone who has (or must have) a second factor is refused, as on every page."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.access.policy import Action


def user_group(user_uuid) -> str:
    return f"user-{user_uuid}"


def record_group(record_uuid) -> str:
    return f"record-{record_uuid}"


# Close codes: 4401 no (fully) logged-in session, 4403 no access to this record.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


def _session_over(scope) -> bool:
    """The session reached its absolute timeout while the socket stayed open."""
    from apps.accounts.middleware import session_outlived

    session = scope.get("session")
    return session is not None and session_outlived(session)


@database_sync_to_async
def _may_connect(user) -> bool:
    from apps.accounts.two_factor import second_factor_pending

    return user is not None and user.is_authenticated and not second_factor_pending(user)


@database_sync_to_async
def _may_follow(user, record_uuid: str, *, journal: bool) -> bool:
    from apps.access.door import fetch, get_for
    from apps.access.policy import decide
    from apps.access.refusals import RecordUnavailable
    from apps.records.models import Record

    try:
        if journal:  # following a record is listing its documents: decided and journaled, misses too
            get_for(user, Record, record_uuid, Action.DOCUMENT_LIST)
            return True
        # A re-check of a record already followed: decided again, journaled by nobody.
        record = fetch(user, Record, record_uuid, Action.DOCUMENT_LIST, journal=False)
    except RecordUnavailable:
        return False
    return decide(actor=user, record=record, action=Action.DOCUMENT_LIST).allowed


@database_sync_to_async
def _document_shown(user, record_uuid: object, document_uuid: object) -> bool | None:
    """Whether this one document is in the actor's own list of the record's documents; None when the
    actor may no longer list the record's documents at all.

    A pushed status shows nothing beyond what the record's page lists (its id and state), so it is
    checked against the list's scope (``documents_visible_to``: the same restrictions that decide for
    one document: masked, profession matrix, confidential from parents) under a decision taken without
    a journal entry: one entry per pushed status (two per import, per open page) would flood the
    person's history with reads nobody made; opening the socket already journaled the list.
    """
    from apps.access.door import as_uuid, fetch
    from apps.access.policy import decide
    from apps.access.refusals import RecordUnavailable
    from apps.records.models import Record
    from apps.records.selectors import document_uuids_shown_to

    try:
        record = fetch(user, Record, record_uuid, Action.DOCUMENT_LIST, journal=False)
    except RecordUnavailable:
        return None
    decision = decide(actor=user, record=record, action=Action.DOCUMENT_LIST)
    if not decision.allowed:
        return None
    uuid = as_uuid(document_uuid)
    return uuid is not None and uuid in document_uuids_shown_to(
        actor=user, record=record, named=[uuid], decision=decision
    )


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    """Live notices for the logged-in person; anonymous connections are closed."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if not await _may_connect(user):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = user_group(user.uuid)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def notify(self, event: dict) -> None:
        if _session_over(self.scope):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        data = event.get("data", {})
        if data.get("record") and not await _may_follow(self.scope["user"], data["record"], journal=False):
            return
        if data.get("document") and not await _document_shown(self.scope["user"], data.get("record"), data["document"]):
            # Made confidential from the parents between its upload and this notice: the notice
            # still counts, the document is not named.
            data = {**data, "document": ""}
        await self.send_json({"type": "notification", "data": data})


class RecordConsumer(AsyncJsonWebsocketConsumer):
    """Status changes of one record's documents, for whoever may list them."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        record_uuid = self.scope["url_route"]["kwargs"]["record_uuid"]
        if not await _may_connect(user):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await _may_follow(user, record_uuid, journal=True):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.record_uuid = str(record_uuid)
        self.group = record_group(record_uuid)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def document_status(self, event: dict) -> None:
        if _session_over(self.scope):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        data = event.get("data", {})
        shown = await _document_shown(self.scope["user"], self.record_uuid, data.get("document"))
        if shown is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        # A document kept from this reader (masked, profession, confidential): nothing, as its list shows nothing.
        if shown:
            await self.send_json({"type": "document", "data": data})
