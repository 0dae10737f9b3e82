"""Database connections under ASGI: lent by a pool and given back, never kept per thread;
an overloaded pool answers "busy, try again" (503 with Retry-After), not an error."""

from __future__ import annotations

import json

from django.db import OperationalError
from django.test import Client, override_settings
from django.urls import path
from psycopg_pool import PoolTimeout

from tests.startup import run_django

SHOW_DATABASE = (
    "from django.conf import settings; import json; print(json.dumps(settings.DATABASES['default'], default=str))"
)


def _database(tmp_path, **variables) -> dict:
    result = run_django(tmp_path, SHOW_DATABASE, **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgresql_connections_come_from_a_pool_and_are_not_kept_per_thread(tmp_path):
    database = _database(tmp_path, DATABASE_URL="postgres://healthspace@127.0.0.1:5432/healthspace")

    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 10, "timeout": 10}


def test_the_pool_is_sized_from_the_environment(tmp_path):
    database = _database(
        tmp_path,
        DATABASE_URL="postgres://healthspace@127.0.0.1:5432/healthspace",
        DATABASE_POOL_MIN_SIZE="1",
        DATABASE_POOL_MAX_SIZE="20",
        DATABASE_POOL_TIMEOUT="3",
    )

    assert database["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 20, "timeout": 3}


def _busy(request):
    # What Django raises when no pooled connection is free in time: psycopg_pool's PoolTimeout,
    # wrapped in Django's own OperationalError.
    raise OperationalError("couldn't get a connection after 10.00 sec") from PoolTimeout("busy")


def _broken(request):
    raise RuntimeError("a real bug")


urlpatterns = [path("busy/", _busy), path("broken/", _broken)]
handler500 = "healthspace.views.server_error"


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_an_overloaded_pool_answers_busy_try_again(db):
    response = Client(raise_request_exception=False).get("/busy/")

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "try again" in response.content.decode()


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_any_other_error_stays_a_server_error(db):
    response = Client(raise_request_exception=False).get("/broken/")

    assert response.status_code == 500
    assert "Retry-After" not in response


def test_postgresql_statements_are_cancelled_after_30_seconds_by_default(tmp_path):
    database = _database(tmp_path, DATABASE_URL="postgres://healthspace@127.0.0.1:5432/healthspace")

    assert database["OPTIONS"]["options"].startswith("-c statement_timeout=30000 ")


def test_the_statement_timeout_is_set_from_the_environment(tmp_path):
    database = _database(
        tmp_path,
        DATABASE_URL="postgres://healthspace@127.0.0.1:5432/healthspace",
        DATABASE_STATEMENT_TIMEOUT_MS="5000",
    )

    assert database["OPTIONS"]["options"].startswith("-c statement_timeout=5000 ")


def test_postgresql_jit_is_off(tmp_path):
    # Compiling short indexed queries cost more than running them (the summary's per-thing lookups).
    database = _database(tmp_path, DATABASE_URL="postgres://healthspace@127.0.0.1:5432/healthspace")

    assert database["OPTIONS"]["options"].endswith(" -c jit=off")
