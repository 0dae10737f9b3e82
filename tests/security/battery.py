"""The world the API battery attacks: alice owns one of each kind of object; the personas own none of them.

Helpers shared by tests/security/test_api_replay.py (every operation × every persona against alice's
objects) and tests/security/test_schemathesis.py (schemathesis as people who may see alice's record).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from apps.accounts.models import User
from apps.records.models import Record
from tests.factories import (
    DocumentFactory,
    ProfessionalFactory,
    RecordFactory,
    SupportAgentFactory,
    UserFactory,
    totp_device,
)

HTTP_METHODS = ("get", "post", "put", "patch", "delete")

# Each path parameter names one kind of alice's objects. A new endpoint with a parameter that is not
# here makes the battery fail (see ``Operation.objects``): no endpoint escapes it by being new.
PARAMETER_OBJECTS: dict[str, str] = {
    "record_uuid": "record",
    "document_uuid": "document",
    "fact_uuid": "fact",
    "code_uuid": "access_code",
    "delegation_uuid": "delegation",
    "mandate_uuid": "mandate",
    "export_uuid": "export",
    "sign_in_id": "sign_in",
}


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # e.g. /api/v1/records/{record_uuid}/
    parameters: tuple[str, ...]  # path parameters
    body_types: tuple[str, ...]  # request content types the schema declares

    @property
    def key(self) -> str:
        return f"{self.method.upper()} {self.template}"

    def path(self, values: dict[str, str]) -> str:
        path = self.template
        for name in self.parameters:
            path = path.replace("{" + name + "}", str(values[name]))
        return path


def api_operations() -> list[Operation]:
    """Every operation of the OpenAPI schema, as drf-spectacular publishes it at /api/schema/."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for template, item in schema["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            parameters = tuple(p["name"] for p in operation.get("parameters", []) if p["in"] == "path")
            body = operation.get("requestBody", {}).get("content", {})
            found.append(Operation(method, template, parameters, tuple(body)))
    return found


# --- The world ------------------------------------------------------------------------------


@dataclass
class World:
    alice: User
    record: Record
    objects: dict[str, Any]  # kind (PARAMETER_OBJECTS' values) -> alice's object
    notification: Any
    invitation_token: str
    professional: User  # someone to block or designate in a request body
    personas: dict[str, User] = field(default_factory=dict)

    def uuids(self) -> dict[str, str]:
        """Path parameter -> the uuid of alice's object of that kind."""
        return {name: str(self.objects[kind].uuid) for name, kind in PARAMETER_OBJECTS.items()}

    def all_uuids(self) -> set[str]:
        """Every identifier of alice and her objects: none may appear in another person's lists."""
        found = {str(self.alice.uuid), str(self.notification.uuid)}
        found.update(str(obj.uuid) for obj in self.objects.values())
        return found


def pdf_bytes() -> bytes:
    from io import BytesIO

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def confirmed_mandate(*, agent: User, record: Record, scopes: list[str]):
    """A mandate the person confirmed. Set directly: how it gets confirmed is tests/assistance's business."""
    from apps.assistance import services
    from apps.assistance.models import ConfirmationMethod, Mandate

    mandate = services.mandate_start(
        agent=agent, record=record, scopes=scopes, days=30, method=ConfirmationMethod.EMAIL_CODE
    )
    Mandate.objects.filter(pk=mandate.pk).update(confirmed_at=timezone.now())
    mandate.refresh_from_db()
    return mandate


def accepted_delegation(*, owner: User, record: Record, delegate: User, scopes: list[str]):
    from apps.delegations import services
    from apps.delegations.models import Delegation

    delegation, _token = services.delegation_invite(actor=owner, record=record, email=delegate.email, scopes=scopes)
    Delegation.objects.filter(pk=delegation.pk).update(delegate=delegate, accepted_at=timezone.now())
    delegation.refresh_from_db()
    return delegation


def _sign_in(user: User) -> SimpleNamespace:
    """A device signed in to the person's account through OAuth; its id is the refresh token's family."""
    from oauth2_provider.models import get_refresh_token_model

    from tests.security.oauth_helpers import mint_tokens

    mint_tokens(user)
    family = get_refresh_token_model().objects.filter(user=user).order_by("-pk").first().token_family
    return SimpleNamespace(uuid=family)


def build_world(*, alice: User, bob: User, charlie: User, dr_martin: User, sam: User, olga: User) -> World:
    """Alice owns one of each object; each persona has a life of their own but no way into alice's."""
    from apps.access.professional import services as access_services
    from apps.clinical import profile
    from apps.delegations.models import Scope
    from apps.notifications.services import notify
    from apps.summaries import exports

    record = alice.own_record
    # Each object through its service where it is cheap, so that the world looks like production.
    document = DocumentFactory(record=record, title="Alice's blood test", original_filename="blood-test.pdf")
    fact = profile.fact_declare(actor=alice, record=record, kind="allergy", display="Peanuts")
    dana = UserFactory(email="dana@example.test", display_name="Dana Caregiver")
    delegation = accepted_delegation(owner=alice, record=record, delegate=dana, scopes=Scope.values)
    from apps.delegations import services as delegation_services

    _pending, invitation_token = delegation_services.delegation_invite(
        actor=alice, record=record, email="frank@example.test", scopes=[Scope.READ_DOCUMENTS]
    )
    tom = SupportAgentFactory(email="tom@example.test", display_name="Tom Agent")  # another structure than sam's
    totp_device(tom)
    mandate = confirmed_mandate(agent=tom, record=record, scopes=["account_help", "read_documents"])
    access_code, _plain = access_services.access_code_create(actor=alice, record=record, hours=24)
    export = exports.summary_export_request(actor=alice, record=record, language="en")
    sign_in = _sign_in(alice)
    notification = notify(
        recipient=alice,
        event="document_ready",
        dedup_key=f"battery:{document.uuid}",
        record_uuid=record.uuid,
        document_uuid=document.uuid,
    )
    assert notification is not None
    assert notification.read_at is None

    # The personas' own lives: bob helps erin (not alice), sam holds a mandate over erin (not alice).
    erin = UserFactory(email="erin@example.test", display_name="Erin Petit")
    RecordFactory(owner=erin, family_name="Petit", given_names="Erin")
    accepted_delegation(owner=erin, record=erin.own_record, delegate=bob, scopes=Scope.values)
    confirmed_mandate(agent=sam, record=erin.own_record, scopes=["account_help", "read_documents"])
    if not olga.totpdevice_set.filter(confirmed=True).exists():
        totp_device(olga)  # operators must pass a second factor: the battery tests the policy, not that gate
    return World(
        alice=alice,
        record=record,
        objects={
            "record": record,
            "document": document,
            "fact": fact,
            "access_code": access_code,
            "delegation": delegation,
            "mandate": mandate,
            "export": export,
            "sign_in": sign_in,
        },
        notification=notification,
        invitation_token=invitation_token,
        professional=ProfessionalFactory(display_name="Dr Other"),
        personas={"charlie": charlie, "bob": bob, "dr_martin": dr_martin, "sam": sam, "olga": olga},
    )


# --- What "unchanged" means -----------------------------------------------------------------

# The journal grows with every refusal (that is the point); sessions and caches are the requester's.
NOT_ALICES = {"access.accessevent", "access.journalhead", "sessions.session"}


def _owned_rows(alice: User, record: Record) -> dict[str, set[int]]:
    """The primary keys of every row that is alice's: her user and record, and every row pointing at one of
    them (directly or through another of her rows), found from the models' foreign keys so that a new
    model is covered without touching this file."""
    owned: dict[str, set[int]] = {"accounts.user": {alice.pk}, "records.record": {record.pk}}
    all_models = [m for m in django_apps.get_models() if m._meta.label_lower not in NOT_ALICES]
    for _round in range(3):
        grew = False
        for model in all_models:
            label = model._meta.label_lower
            query = models.Q()
            for fk in model._meta.get_fields():
                if not (fk.is_relation and fk.many_to_one and fk.concrete):
                    continue
                target = fk.related_model._meta.label_lower
                if owned.get(target):
                    query |= models.Q(**{f"{fk.attname}__in": owned[target]})
            if not query:
                continue
            pks = set(model._default_manager.filter(query).values_list("pk", flat=True))
            if not pks <= owned.get(label, set()):
                owned[label] = owned.get(label, set()) | pks
                grew = True
        if not grew:
            break
    return owned


def snapshot(alice: User, record: Record) -> dict[str, list[tuple]]:
    """Every field of every row that is alice's, for comparing before/after an attack."""
    result = {}
    for label, pks in sorted(_owned_rows(alice, record).items()):
        model = django_apps.get_model(label)
        names = [f.attname for f in model._meta.concrete_fields]
        result[label] = sorted(
            tuple(repr(v) for v in row) for row in model._default_manager.filter(pk__in=pks).values_list(*names)
        )
    return result


def snapshot_difference(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    changed = []
    for label in sorted(set(before) | set(after)):
        old, new = before.get(label, []), after.get(label, [])
        if old != new:
            changed.append(f"{label}: {len(old)} rows -> {len(new)} rows{'' if len(old) != len(new) else ' (edited)'}")
    return changed


# --- Sending a request ----------------------------------------------------------------------


def send(client: Client, operation: Operation, path: str, body: Any, **extra):
    """One request as the schema describes it: JSON, or multipart for an upload."""
    method = operation.method
    if body is None:
        return client.generic(method.upper(), path, **extra)
    if "application/json" not in operation.body_types and "multipart/form-data" in operation.body_types:
        data = {key: SimpleUploadedFile(*value) if isinstance(value, tuple) else value for key, value in body.items()}
        return client.post(path, data, **extra)
    return client.generic(method.upper(), path, json.dumps(body), content_type="application/json", **extra)


def contains_any(content: bytes, needles: Iterable[str]) -> list[str]:
    text = content.decode("utf-8", "replace")
    return sorted(n for n in needles if n in text)


def random_uuids(operation: Operation) -> dict[str, str]:
    return {name: str(uuid.uuid4()) for name in operation.parameters}


def describe(problems: dict[str, list[str]]) -> str:
    lines: list[str] = []
    for kind, items in problems.items():
        if items:
            lines.append(f"{kind} ({len(items)}):")
            lines.extend(f"  - {item}" for item in items)
    return "\n".join(lines)
