"""Proof — Crawler (issue 12): every URL pattern, as every persona, on every object of a generated world.

The routes come from the resolver itself, so a new page is crawled the day it is added; a path
parameter this file does not know fails the test (map it to a kind of object, or skip the route
with the reason it holds no record data). What each persona must not see is asked of the policy
(``decide``), never of a page: a denied document's title, id and facts; a record the persona may
not open; directives the persona may not read. WebSocket consumers are crawled the same way, with
the pushes the application itself sends (test_crawler_sockets.py).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pypdfium2
import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from apps.clinical.models import FactKind
from tests.conftest import logged_in_client
from tests.security.crawler_world import RECORD_NOT_OPEN, World, build_world, forbidden_for

# Path parameter -> the kind of object of the world whose ids fill it.
PARAM_KINDS = {
    "record_uuid": "record",
    "document_uuid": "document",
    "fact_uuid": "fact",
    "rectification_uuid": "rectification",
    "mandate_uuid": "mandate",
    "delegation_uuid": "delegation",
    "code_uuid": "access_code",
    "export_uuid": "export",
    "token": "token",
}

# Routes that take no record data, with why. Matched on the route as the resolver spells it.
SKIPPED_ROUTES = {
    r"^accounts/confirm-email/(?P<key>[-:\w]+)/$": "e-mail confirmation key: the account's own address, no record",
    r"accounts/^confirm-email/(?P<key>[-:\w]+)/$": "allauth's copy of the e-mail confirmation route (shadowed)",
    r"accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": "password-reset key: no record data",
    "account/security/apps/<uuid:sign_in_id>/end/": "the user's own OAuth sign-ins (POST only): no record data",
    "api/v1/auth/sign-ins/<uuid:sign_in_id>/": "the user's own OAuth sign-ins: no record data",
    "admin/r/<path:content_type_id>/<path:object_id>/": "admin's view-on-site: a redirect, no body",
    "admin/(?P<url>.*)$": "admin's catch-all: a redirect or the one 404",
    "api/v1/^.*$": "the API's catch-all: the one 404 body",
}


def _routes(resolver: URLResolver | None = None, prefix: str = "") -> list[tuple[str, Any]]:
    resolver = resolver or get_resolver()
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            found += _routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append((prefix + str(pattern.pattern), pattern.callback))
    return found


PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>|\(\?P<(?P<rname>\w+)>(?P<rx>[^)]*)\)")


def _values(route: str, callback: Any, name: str, world: World) -> list[str]:
    if name in PARAM_KINDS:
        return world.ids(PARAM_KINDS[name])
    if name == "kind" and "profile/declare" in route:
        return list(FactKind.values)
    model_admin = getattr(callback, "model_admin", None)
    if route.startswith("admin/") and name == "object_id" and model_admin is not None:
        return [str(pk) for pk in model_admin.model._default_manager.order_by("pk").values_list("pk", flat=True)]
    if route == "admin/accounts/user/<id>/password/" and name == "id":
        from apps.accounts.models import User

        return [str(pk) for pk in User.objects.order_by("pk").values_list("pk", flat=True)]
    if route.startswith("admin/") and name == "app_label":
        return sorted({model._meta.app_label for model in admin.site._registry})
    raise AssertionError(f"route {route!r}: unknown path parameter {name!r}; map it in PARAM_KINDS or skip the route")


def crawl_paths(world: World) -> list[tuple[str, str]]:
    """Every concrete path (with its route): each route filled with every id of the right kind."""
    paths: list[tuple[str, str]] = []
    for route, callback in _routes():
        if route in SKIPPED_ROUTES:
            continue
        names = [m.group("name") or m.group("rname") for m in PARAM.finditer(route)]
        choices = [_values(route, callback, name, world) for name in names]
        for combination in itertools.product(*choices):
            values = iter(combination)
            path = PARAM.sub(lambda _m: next(values), route)  # noqa: B023 (consumed at once)
            path = path.replace("^", "").replace("$", "")
            assert not re.search(r"[()\[\]*+?\\]", path), f"route {route!r} is a regex this crawler cannot fill"
            paths.append(("/" + path, route))
    return sorted(set(paths))


# An invitation's link is the invited person's capability: who holds it sees whose record invites
# them (and nothing of its content) before having any basis the policy knows.
CAPABILITY_PARAMS = {"token"}


def _forbidden_on(route: str, forbidden: dict[str, str]) -> dict[str, str]:
    names = {m.group("name") or m.group("rname") for m in PARAM.finditer(route)}
    if names & CAPABILITY_PARAMS:
        return {value: why for value, why in forbidden.items() if why != RECORD_NOT_OPEN}
    return forbidden


def _body_text(response) -> str:
    """What the persona receives, as text: PDFs are read out (text layer) as well as searched raw."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    text = raw.decode("utf-8", errors="replace")
    if raw.startswith(b"%PDF"):
        pdf = pypdfium2.PdfDocument(raw)
        try:
            text += "\n".join(page.get_textpage().get_text_range() for page in pdf)
        finally:
            pdf.close()
    return text


def client_for(user) -> Client:
    client = Client() if user is None else logged_in_client(user)
    client.raise_request_exception = False
    return client


def leaks_in(text: str, path: str, forbidden: dict[str, str]) -> list[tuple[str, str]]:
    # The persona's own request echoed back (a language form's "next") is not a disclosure.
    text = text.replace(path, "")
    return [(value, why) for value, why in forbidden.items() if value in text]


def report(found: list[str]) -> str:
    return f"{len(found)} leak(s) or crashes:\n" + "\n".join(sorted(found))


WORLD_SETTINGS = {
    "LANGUAGE_CODE": "en",
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    "CELERY_TASK_ALWAYS_EAGER": True,
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module, in a transaction rolled back at the end; its files in one folder."""
    from django.core.cache import cache
    from django.db import transaction
    from django.test import override_settings

    media = tmp_path_factory.mktemp("crawler-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, **WORLD_SETTINGS):
        cache.clear()
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = build_world()
            forbidden = {name: forbidden_for(built, user) for name, user in built.personas.items()}
            yield built, forbidden, media
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def test_the_world_is_what_the_crawl_needs(world, db):
    """Guards against a vacuous crawl: each persona is denied what the rules say, the owner only others' data."""
    built, forbidden, _media = world
    assert forbidden["alice"].keys() <= {
        "ZQX-childconf-title-07",
        str(built.documents["child_conf"].uuid),
        "ZQX-childconf-fact-07-label",
        "ZQX-childconf-fact-07-value",
        str(built.facts["child_conf"].uuid),
        "Zqxbobfam",
        "Zqxbobgiven",
        str(built.records["bob"].uuid),
        "ZQX-bob-title-08",
        str(built.documents["bob"].uuid),
        "ZQX-bob-fact-08-label",
        "ZQX-bob-fact-08-value",
        str(built.facts["bob"].uuid),
    }
    assert "ZQX-childconf-title-07" in forbidden["alice"]
    assert "ZQX-masked-title-03" in forbidden["gp_care"]
    assert "ZQX-masked-title-03" not in forbidden["gp_designated"]
    assert "ZQX-lab-title-01" in forbidden["caregiver_settings"]
    assert "ZQX-lab-title-01" in forbidden["caregiver_profile"]
    assert "ZQX-lab-title-01" not in forbidden["caregiver_documents"]
    assert "ZQX-lab-title-01" in forbidden["physio_care"]
    assert "ZQX-rx-title-02" not in forbidden["physio_care"]
    assert "Zqxalicefam" in forbidden["gp_blocked"]
    assert "ZQX-lab-title-01" in forbidden["agent_mandated"]
    for persona in ("agent_unmandated", "professional_nothing", "operator", "anonymous", "bob"):
        assert "Zqxalicefam" in forbidden[persona], persona


def test_every_route_is_crawled_or_skipped_with_a_reason(world, db):
    """A new route with a path parameter this crawler cannot fill fails here, not silently."""
    built, _forbidden, _media = world
    paths = crawl_paths(built)
    assert len(paths) > 500  # every route, filled with every object of its kind
    assert {route for _path, route in paths} >= {"records/<uuid:record_uuid>/", "documents/<uuid:document_uuid>/"}


def test_pdfs_are_searched_by_their_text(world, db, settings):
    """The summary PDF the owner asked for is read out: its facts are found (else PDFs would pass unread)."""
    built, _forbidden, settings.MEDIA_ROOT = world
    from apps.summaries.models import SummaryExport

    export = SummaryExport.objects.get(requested_by=built.personas["alice"], record=built.records["alice"])
    response = client_for(built.personas["alice"]).get(f"/summary-exports/{export.uuid}/download/")
    assert response.status_code == 200
    assert "ZQX-lab-fact-01-label" in _body_text(response)


def test_no_page_api_pdf_or_csv_shows_what_the_policy_denies(world, db, settings):
    built, forbidden, settings.MEDIA_ROOT = world
    paths = crawl_paths(built)
    found: list[str] = []
    for persona, user in built.personas.items():
        client = client_for(user)
        for path, route in paths:
            response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
            if response.status_code >= 500:
                found.append(f"{persona:20} GET {path} -> {response.status_code} (crash: bytes unchecked)")
                continue
            for value, why in leaks_in(_body_text(response), path, _forbidden_on(route, forbidden[persona])):
                found.append(f"{persona:20} GET {path} [{response.status_code}] shows {value!r}: {why}")
    assert not found, report(found)
