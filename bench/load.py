"""Load with wrk, and the SQL queries and bytes of one request, for each endpoint."""

from __future__ import annotations

import json
import subprocess
import tempfile
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.stack import PROXY_HEADERS, Config

WRK_SCRIPT = Path(__file__).with_name("wrk.lua")


@dataclass(frozen=True)
class Endpoint:
    name: str  # e.g. "summary page"
    patient: str  # "31", "2000", "10000", "random", or "" for the ceiling
    paths: tuple[str, ...]  # several: rotated (search terms, random patients' records)
    cookie: str


@dataclass
class LoadResult:
    concurrency: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    timeouts: int
    bytes_per_request: int


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# A redirect is an answer to report (to the login page, to the second factor), not to follow.
no_redirect = urllib.request.build_opener(_NoRedirect)


def cookie_for(user_id: int) -> str:
    """A logged-in session cookie for this account, made in-process (the password hash is not
    what the endpoints are measured for; login is measured on its own)."""
    from django.conf import settings
    from django.test import Client

    from apps.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(pk=user_id))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def check(config: Config, endpoint: Endpoint) -> tuple[int, int]:
    """One request as the real client: (status, bytes). Anything but 200 is reported, not loaded."""
    request = urllib.request.Request(
        config.base_url + endpoint.paths[0], headers={**PROXY_HEADERS, "Cookie": endpoint.cookie}
    )
    try:
        with no_redirect.open(request, timeout=120) as response:
            return response.status, len(response.read())
    except urllib.error.HTTPError as error:
        return error.code, 0


def wrk(config: Config, endpoint: Endpoint, concurrency: int, seconds: float) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as paths:
        paths.write("\n".join(endpoint.paths) + "\n")
    command = [
        *("wrk", "-t1", f"-c{concurrency}", f"-d{max(seconds, 1):.0f}s", "--timeout", "15s"),
        *("-s", str(WRK_SCRIPT), config.base_url, "--", paths.name, endpoint.cookie),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    Path(paths.name).unlink()
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    requests = raw["requests"]
    elapsed = raw["duration_us"] / 1e6
    errors = raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["status_errors"]
    return LoadResult(
        concurrency=concurrency,
        requests=requests,
        seconds=round(elapsed, 2),
        rps=round(requests / elapsed, 1) if elapsed else 0.0,
        # wrk reports no latency when nothing completed: then the figure is the timeout itself.
        p50_ms=round(raw["p50_us"] / 1000, 1) if requests else 15000.0,
        p95_ms=round(raw["p95_us"] / 1000, 1) if requests else 15000.0,
        p99_ms=round(raw["p99_us"] / 1000, 1) if requests else 15000.0,
        errors=errors,
        timeouts=raw["timeouts"],
        bytes_per_request=raw["bytes"] // requests if requests else 0,
    )


def load(config: Config, endpoint: Endpoint, concurrencies: tuple[int, ...]) -> list[dict]:
    results = []
    for concurrency in concurrencies:
        if config.warmup:
            wrk(config, endpoint, concurrency, config.warmup)
        results.append(asdict(wrk(config, endpoint, concurrency, config.seconds)))
    return results


def queries_per_request(endpoint: Endpoint) -> int:
    """SQL queries of one request, counted in-process with the same settings and session."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    name, _, value = endpoint.cookie.partition("=")
    client.cookies[name] = value
    client.get(endpoint.paths[0], secure=True, HTTP_HOST="127.0.0.1")  # this process's first-use caches
    with CaptureQueriesContext(connection) as queries:
        client.get(endpoint.paths[0], secure=True, HTTP_HOST="127.0.0.1")
    return len(queries)
