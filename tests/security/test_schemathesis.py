"""schemathesis against /api/schema/, in process, as the four people who may act on alice's record.

Each operation gets a small, derandomized batch of generated requests (valid and invalid data, with the
path parameters both generated and set to alice's real objects) through the WSGI application, with the
person's session cookie and a CSRF token. Every answer must be documented by the schema: no 5xx, a
status code the operation declares, a content type and a body that match its schema.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import logged_in_client
from tests.security.battery import PARAMETER_OBJECTS, World, build_world, describe

pytestmark = pytest.mark.django_db

# Small and fixed: each operation × mode gets this many examples, the same ones on every run.
MAX_EXAMPLES = 8
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PERSONAS = ["alice", "bob", "dr_martin", "sam"]


@contextlib.contextmanager
def _same_connection() -> Iterator[None]:
    """Keep the test's database connection across WSGI requests, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _grant(world: World, persona: str) -> None:
    """Give the persona their real way into alice's record."""
    from apps.access.professional.services import care_attest
    from apps.assistance.models import MandateScope
    from apps.delegations.models import Scope
    from tests.security.battery import accepted_delegation, confirmed_mandate

    person = world.personas.get(persona)
    if persona == "bob":
        accepted_delegation(owner=world.alice, record=world.record, delegate=person, scopes=Scope.values)
    elif persona == "dr_martin":
        care_attest(professional=person, record=world.record)
    elif persona == "sam":
        confirmed_mandate(agent=person, record=world.record, scopes=MandateScope.values)


def _credentials(user) -> tuple[dict[str, str], dict[str, str]]:
    """The cookies and headers of a browser that signed in (second factor passed) and holds a CSRF token."""
    client = logged_in_client(user)
    token = _get_new_csrf_string()
    cookies = {
        django_settings.SESSION_COOKIE_NAME: client.cookies[django_settings.SESSION_COOKIE_NAME].value,
        django_settings.CSRF_COOKIE_NAME: token,
    }
    return cookies, {"X-CSRFToken": token}


def _strategies(operation, real: dict[str, str]) -> list[tuple[GenerationMode, object]]:
    """Valid data with generated identifiers (mostly missing objects), then valid and invalid data aimed at
    alice's real objects, so that the answers the persona may get are checked as well."""
    names = [p.name for p in operation.path_parameters]
    known = {name: real[name] for name in names if name in real}
    return [
        (GenerationMode.POSITIVE, operation.as_strategy(GenerationMode.POSITIVE)),
        (GenerationMode.POSITIVE, operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known)),
        (GenerationMode.NEGATIVE, operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=known)),
    ]


def _run(operation, strategy, cookies: dict[str, str], headers: dict[str, str]) -> None:
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is reported as found
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy)
    def run(case) -> None:
        response = case.call(headers=headers, cookies=cookies)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


@pytest.mark.parametrize("persona", PERSONAS)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(request, settings, persona):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    people = {name: request.getfixturevalue(name) for name in ["alice", "bob", "charlie", "dr_martin", "sam", "olga"]}
    world = build_world(**people)
    _grant(world, persona)
    user = world.alice if persona == "alice" else world.personas[persona]
    cookies, headers = _credentials(user)
    real = {name: str(world.objects[kind].uuid) for name, kind in PARAMETER_OBJECTS.items()}
    failures: dict[str, list[str]] = {}
    nothing_invalid: list[str] = []
    ran = 0
    with _same_connection():
        schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode, strategy in _strategies(operation, real):
                ran += 1
                try:
                    _run(operation, strategy, cookies, headers)
                except Unsatisfiable:
                    # Nothing can be made invalid (no parameter, no body, e.g. GET /me/): nothing to run.
                    assert mode == GenerationMode.NEGATIVE, operation.label
                    if len(operation.body) or len(operation.query):
                        nothing_invalid.append(operation.label)
                except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - collected, reported below
                    failures.setdefault(operation.label, []).append(_summary(error))
                    break  # one failure per operation is enough to report it
    assert not failures, describe({f"{persona}: {label}": items for label, items in failures.items()})
    assert ran >= 150  # every operation was really exercised
    # Only operations whose one input is the path (set to alice's real ids) have nothing to make invalid.
    assert not nothing_invalid, nothing_invalid


def _summary(error: BaseException) -> str:
    text = str(error).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return " | ".join(lines[:12])[:900]
