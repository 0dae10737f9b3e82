"""Every operation of the OpenAPI schema, replayed as every persona against alice's objects.

The schema is generated here, so a new endpoint joins the battery by existing: a path parameter the
battery cannot fill, or a request body it has no valid example for, fails ``test_every_operation_*``.
A refused access to record data must look exactly like "nothing here" (404, one body, byte for byte,
the same for a missing object), change nothing of alice's, and leave a denial in the access journal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from apps.access.models import AccessEvent, Outcome
from tests.conftest import logged_in_client
from tests.security.battery import (
    PARAMETER_OBJECTS,
    Operation,
    World,
    api_operations,
    build_world,
    contains_any,
    describe,
    pdf_bytes,
    random_uuids,
    send,
    snapshot,
    snapshot_difference,
)
from tests.security.oauth_helpers import bearer_client

pytestmark = pytest.mark.django_db

PERSONAS = ["charlie", "bob", "dr_martin", "sam", "olga"]

# A valid request body for each operation that takes one, so that nothing but the authorisation can
# refuse the request (a 400 for a malformed body would prove nothing).
BODIES: dict[str, Callable[[World], Any]] = {
    "PATCH /api/v1/documents/{document_uuid}/": lambda w: {"title": "Renamed by an intruder"},
    "POST /api/v1/mandates/{mandate_uuid}/confirm/": lambda w: {"code": "123456"},
    "PATCH /api/v1/profile/facts/{fact_uuid}/": lambda w: {"display": "Changed by an intruder"},
    "POST /api/v1/profile/facts/{fact_uuid}/rectifications/": lambda w: {"reason": "Not mine"},
    "POST /api/v1/records/{record_uuid}/access-codes/": lambda w: {"hours": 24},
    "POST /api/v1/records/{record_uuid}/blocked-professionals/": lambda w: {
        "professional": str(w.professional.uuid),
        "blocked": True,
    },
    "POST /api/v1/records/{record_uuid}/delegations/": lambda w: {
        "email": "intruder@example.test",
        "scopes": ["read_documents"],
    },
    "PUT /api/v1/records/{record_uuid}/designated-doctor/": lambda w: {"professional": str(w.professional.uuid)},
    "PUT /api/v1/records/{record_uuid}/directives/": lambda w: {
        "trusted_person_name": "An intruder",
        "organ_donation": "not_stated",
    },
    "POST /api/v1/records/{record_uuid}/documents/": lambda w: {
        "file": ("intruder.pdf", pdf_bytes(), "application/pdf")
    },
    "PATCH /api/v1/records/{record_uuid}/privacy/": lambda w: {"research_use": True, "professional_access": False},
    "POST /api/v1/records/{record_uuid}/profile/facts/": lambda w: {"kind": "allergy", "display": "Intruder"},
}

# Operations with a path parameter that may answer 401/403 instead of 404: only those that are not about
# record data (the refusal then tells nothing about a record). Each with its reason. Empty today: every
# operation with a path parameter names something of a record.
NOT_RECORD_DATA: dict[str, str] = {}

# Operations with a path parameter that concern no record, so the access journal (which is the journal
# of records) has nothing to say; they must still answer the one 404 body and change nothing.
NOT_JOURNALED: dict[str, str] = {
    "DELETE /api/v1/auth/sign-ins/{sign_in_id}/": "another person's signed-in device: account data, not a record",
}

# Operations without a path parameter whose body names alice's object: replayed with her identifiers.
BODY_REPLAYS: dict[str, Callable[[World], Any]] = {
    "POST /api/v1/notifications/read/": lambda w: {"ids": [str(w.notification.uuid)]},
    "POST /api/v1/delegations/accept/": lambda w: {"token": w.invitation_token},
    "POST /api/v1/mandates/": lambda w: {
        "record": str(w.record.uuid),
        "scopes": ["account_help"],
        "days": 30,
        "method": "email_code",
    },
}

# Operations that act only on the caller's own account and name no other person's object: nothing of
# alice's to replay. Each with its reason (and where it is tested).
OWN_ACCOUNT: dict[str, str] = {
    "POST /api/v1/auth/token/": "signing in: credentials, not record data (tests/accounts, tests/security)",
    "POST /api/v1/activation/": "a printed letter's code is the proof; no session (tests/assistance)",
    "POST /api/v1/records/": "adds a child's record to the caller's own account (tests/records)",
    "PUT /api/v1/notifications/preferences/": "the caller's own preferences (tests/notifications)",
    "DELETE /api/v1/auth/sign-ins/": "signs out every device of the caller's own account (tests/security)",
}

# POST /mandates/ as a support agent prepares a mandate that grants nothing until alice confirms it:
# a new waiting mandate is expected there (tests/assistance proves it opens nothing).
MAY_PREPARE_A_MANDATE = {"sam"}


def _world(request) -> World:
    names = ["alice", *PERSONAS]
    people = {name: request.getfixturevalue(name) for name in names}
    return build_world(**people)


def _client(user, auth: str = "session") -> Client:
    """A session that passed the second factor (the web app), or an OAuth bearer token (an app)."""
    if auth == "bearer":
        return bearer_client(user)
    return logged_in_client(user)


def _path_operations() -> list[Operation]:
    return [op for op in api_operations() if op.parameters]


def _body(world: World, operation: Operation) -> Any:
    maker = BODIES.get(operation.key)
    return maker(world) if maker else None


def _denials(actor, after_seq: int):
    return AccessEvent.objects.filter(actor_uuid=actor.uuid, outcome=Outcome.DENIED, seq__gt=after_seq)


def _last_seq() -> int:
    last = AccessEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    return last or 0


def _one_body(client: Client) -> bytes:
    """The body of the plainest "nothing here": a record that does not exist."""
    import uuid

    response = client.get(f"/api/v1/records/{uuid.uuid4()}/")
    assert response.status_code == 404, response.content
    return response.content


def test_every_operation_is_in_the_battery():
    """A new operation must be replayed: its path parameters known, its body given, or its reason listed."""
    problems: list[str] = []
    for operation in api_operations():
        unknown = [name for name in operation.parameters if name not in PARAMETER_OBJECTS]
        if unknown:
            problems.append(f"{operation.key}: path parameter(s) {unknown} unknown to PARAMETER_OBJECTS")
        if operation.parameters and operation.body_types and operation.key not in BODIES:
            problems.append(f"{operation.key}: takes a body; give a valid one in BODIES")
        listed = operation.key in BODY_REPLAYS or operation.key in OWN_ACCOUNT
        if not operation.parameters and operation.method != "get" and not listed:
            problems.append(f"{operation.key}: list it in BODY_REPLAYS or OWN_ACCOUNT (with its reason)")
    assert not problems, "\n".join(problems)
    assert len(_path_operations()) >= 40  # the battery really sees the schema


@pytest.mark.parametrize("auth", ["session", "bearer"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_another_persons_objects_answer_nothing_here_change_nothing_and_are_journaled(request, persona, auth):
    world = _world(request)
    actor = world.personas[persona]
    client = _client(actor, auth)
    one_body = _one_body(client)
    values = world.uuids()
    before = snapshot(world.alice, world.record)
    problems: dict[str, list[str]] = {"status": [], "body": [], "changed": [], "not journaled": []}
    replayed = 0
    for operation in _path_operations():
        seq = _last_seq()
        response = send(client, operation, operation.path(values), _body(world, operation))
        replayed += 1
        label = f"{operation.key} as {persona} ({auth})"
        allowed = {404} | ({401, 403} if operation.key in NOT_RECORD_DATA else set())
        if response.status_code not in allowed:
            problems["status"].append(f"{label}: {response.status_code} {response.content[:200]!r}")
        elif response.status_code == 404 and response.content != one_body:
            problems["body"].append(f"{label}: {response.content[:200]!r} instead of {one_body!r}")
        after = snapshot(world.alice, world.record)
        if after != before:
            problems["changed"].append(f"{label}: {snapshot_difference(before, after)}")
            before = after
        journaled = _denials(actor, seq).filter(record_uuid=world.record.uuid).exists()
        if not journaled and operation.key not in NOT_JOURNALED:
            problems["not journaled"].append(label)
    assert replayed >= 40
    assert not any(problems.values()), describe(problems)


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_missing_object_answers_exactly_like_a_forbidden_one(request, persona):
    world = _world(request)
    actor = world.personas[persona]
    client = _client(actor)
    one_body = _one_body(client)
    problems: dict[str, list[str]] = {"differs from forbidden": [], "not the one 404 body": [], "not journaled": []}
    for operation in _path_operations():
        body = _body(world, operation)
        forbidden = send(client, operation, operation.path(world.uuids()), body)
        seq = _last_seq()
        missing = send(client, operation, operation.path(random_uuids(operation)), body)
        label = f"{operation.key} as {persona}"
        if missing.status_code != 404 or missing.content != one_body:
            problems["not the one 404 body"].append(f"{label}: {missing.status_code} {missing.content[:200]!r}")
        if (missing.status_code, missing.content) != (forbidden.status_code, forbidden.content):
            problems["differs from forbidden"].append(
                f"{label}: missing {missing.status_code} {missing.content[:120]!r}"
                f" / forbidden {forbidden.status_code} {forbidden.content[:120]!r}"
            )
        if not _denials(actor, seq).exists() and operation.key not in NOT_JOURNALED:
            problems["not journaled"].append(label)
    assert not any(problems.values()), describe(problems)


@pytest.mark.parametrize("persona", PERSONAS)
def test_lists_never_show_another_persons_objects(request, persona):
    world = _world(request)
    client = _client(world.personas[persona])
    lists = [op for op in api_operations() if not op.parameters and op.method == "get"]
    assert lists
    problems = []
    for operation in lists:
        response = client.get(operation.template)
        if response.status_code >= 500:
            problems.append(f"{operation.key} as {persona}: {response.status_code}")
        leaked = contains_any(response.content, world.all_uuids())
        if leaked:
            problems.append(f"{operation.key} as {persona} shows alice's {leaked}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("persona", PERSONAS)
def test_bodies_naming_another_persons_objects_change_nothing(request, persona):
    world = _world(request)
    actor = world.personas[persona]
    client = _client(actor)
    problems = []
    for key, maker in BODY_REPLAYS.items():
        operation = next((op for op in api_operations() if op.key == key), None)
        assert operation is not None, f"{key} left the schema: update BODY_REPLAYS"
        before = snapshot(world.alice, world.record)
        response = send(client, operation, operation.template, maker(world))
        after = snapshot(world.alice, world.record)
        label = f"{key} as {persona}"
        if response.status_code >= 500:
            problems.append(f"{label}: {response.status_code}")
        if key == "POST /api/v1/mandates/" and persona in MAY_PREPARE_A_MANDATE:
            continue
        if after != before:
            problems.append(f"{label} changed {snapshot_difference(before, after)}")
        if response.status_code < 300 and key != "POST /api/v1/notifications/read/":
            problems.append(f"{label}: accepted ({response.status_code} {response.content[:200]!r})")
    assert world.notification.__class__.objects.get(pk=world.notification.pk).read_at is None
    assert not problems, "\n".join(problems)


def test_an_anonymous_caller_learns_nothing_either(request):
    """Before any lookup, an anonymous request is refused the same way for alice's objects and for none."""
    world = _world(request)
    client = Client()
    before = snapshot(world.alice, world.record)
    problems = []
    for operation in _path_operations():
        body = _body(world, operation)
        existing = send(client, operation, operation.path(world.uuids()), body)
        missing = send(client, operation, operation.path(random_uuids(operation)), body)
        label = f"{operation.key} anonymous"
        if existing.status_code not in (401, 403, 404):
            problems.append(f"{label}: {existing.status_code}")
        if (existing.status_code, existing.content) != (missing.status_code, missing.content):
            problems.append(f"{label}: {existing.content[:100]!r} / missing {missing.content[:100]!r}")
    assert snapshot(world.alice, world.record) == before
    assert not problems, "\n".join(problems)
