"""Breaches 7 and 15: a strict Content-Security-Policy, HSTS, and `check --deploy` clean in production."""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = PROJECT_DIR / "templates"


def _production_environ(**overrides: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "HEALTHSPACE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DOCUMENT_MASTER_KEYS": "check:" + base64.b64encode(os.urandom(32)).decode(),
        "JOURNAL_KEYS": "check:" + base64.b64encode(os.urandom(32)).decode(),
        "JOURNAL_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(),
        "DATABASE_URL": "postgres://healthspace@127.0.0.1:9/healthspace",
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "ALLOWED_HOSTS": "health.example.org",
        "SITE_URL": "https://health.example.org",
        **overrides,
    }


def _manage(environ: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=PROJECT_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


# --- Content-Security-Policy ------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_forbid_inline_and_foreign_scripts(client):
    policy = _policy(client.get("/accounts/login/"))

    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


@pytest.mark.django_db
def test_pages_may_open_the_live_updates_websocket_on_their_own_host_only(client, settings):
    connect = _policy(client.get("/accounts/login/"))["connect-src"]

    assert connect[0] == "'self'"
    assert all(source.startswith("ws://127.0.0.1") or source == "'self'" for source in connect)


@pytest.mark.django_db
def test_a_logged_in_page_carries_the_policy_too(as_user, alice):
    response = as_user(alice).get("/")

    assert response.status_code == 200
    assert _policy(response)["script-src"] == ["'self'"]


@pytest.mark.django_db
def test_api_docs_load_their_script_from_our_own_static_files(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"cdn.jsdelivr.net" not in response.content
    assert b"/static/drf_spectacular_sidecar/" in response.content
    assert _policy(response)["script-src"] == ["'self'"]  # only styles are relaxed there


def _browser_templates() -> list[Path]:
    # The *_pdf.html templates go to WeasyPrint, never to a browser.
    return [path for path in TEMPLATES_DIR.rglob("*.html") if not path.name.endswith("_pdf.html")]


def test_no_template_carries_inline_script():
    offenders = []
    for path in _browser_templates():
        for tag in re.findall(r"<script\b[^>]*>", path.read_text()):
            if "src=" not in tag and "application/json" not in tag:
                offenders.append(f"{path.relative_to(PROJECT_DIR)}: {tag}")
    assert offenders == []


def test_no_template_carries_inline_styles_or_event_handlers():
    pattern = re.compile(r"<[a-zA-Z][^>]*\s(style|on[a-z]+)\s*=", re.DOTALL)
    offenders = [
        str(path.relative_to(PROJECT_DIR))
        for path in _browser_templates()
        if pattern.search(path.read_text()) or "<style" in path.read_text()
    ]
    assert offenders == []


# --- Production: HSTS and the deployment checks ----------------------------------------------------


def test_production_sends_hsts_for_subdomains_and_redirects_to_https():
    show = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'healthspace.settings'); django.setup(); "
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", show],
        cwd=PROJECT_DIR,
        env=_production_environ(),
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.stdout.split() == ["31536000", "True", "True", "True"], result.stderr


def test_check_deploy_passes_with_production_settings():
    result = _manage(_production_environ(), "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_when_production_drops_https():
    result = _manage(_production_environ(SECURE_SSL_REDIRECT="false"), "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode != 0
    assert "healthspace.W004" in result.stderr
    assert "SECURE_SSL_REDIRECT" in result.stderr


def test_start_up_warning_names_the_generated_secrets(tmp_path):
    environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    result = _manage({**environ, "HEALTHSPACE_VAR_DIR": str(tmp_path / "var")}, "check")

    assert result.returncode == 0, result.stderr
    assert "healthspace.W002" in result.stdout + result.stderr
    assert str(tmp_path / "var" / "secrets") in result.stdout + result.stderr


def test_start_up_warning_names_a_secret_file_others_can_read(tmp_path):
    environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    environ["HEALTHSPACE_VAR_DIR"] = str(tmp_path / "var")
    _manage(environ, "check")
    (tmp_path / "var" / "secrets" / "secret_key").chmod(0o644)

    result = _manage(environ, "check")

    assert "healthspace.W003" in result.stdout + result.stderr
    assert "secret_key" in result.stdout + result.stderr
