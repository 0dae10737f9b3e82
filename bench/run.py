"""`make bench`: healthspace on this machine's production stack, with figures anyone can reproduce.

PostgreSQL, Redis, a Celery worker and the ASGI server (uvicorn, 2 workers for 2 cores), DEBUG
off; the seeded population of `manage.py seed_bench`; wrk for the load. Every endpoint is
reported against the ceiling measured in the same run (a minimal logged-in JSON view, and the
same plus one indexed query). Writes var/bench/results/<time>-<commit>.json and prints a table.
Settings: BENCH_* environment variables (bench/stack.py).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import load, pipelines, report
from bench.stack import VAR, Config, Stack, environment, prepare_database

# Endpoints loaded at every concurrency for these patients, at the middle one for the others.
FULL_PATIENTS = ("31", "2000")
OTHER_PATIENTS = ("10000", "random")
TIMELINE_DEPTH = 20  # pages: the "deep page" of the timeline


def _git() -> dict:
    def run(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True).stdout.strip()

    return {"commit": run("rev-parse", "HEAD"), "dirty": bool(run("status", "--porcelain", "--untracked-files=no"))}


def _deep_cursor(patient: dict) -> str:
    from apps.accounts.models import User
    from apps.records.models import Record
    from apps.records.timeline import documents_timeline

    user = User.objects.get(pk=patient["user_id"])
    record = Record.objects.get(uuid=patient["record_uuid"])
    cursor = ""
    for _ in range(TIMELINE_DEPTH - 1):
        page = documents_timeline(actor=user, record=record, cursor=cursor)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    return cursor


def _endpoints(patients: dict[str, dict], search_terms: list[str]) -> list[load.Endpoint]:
    from urllib.parse import quote

    endpoints = []
    for name, patient in patients.items():
        record, cookie = patient["record_uuid"], patient["cookie"]
        documents = patient.get("blob_document_uuids") or []
        pages = {
            "summary page": [f"/records/{record}/"],
            "timeline page 1": [f"/records/{record}/?after="],
            f"timeline page {TIMELINE_DEPTH}": [f"/records/{record}/?after={quote(patient['deep_cursor'])}"],
            "filtered list": [f"/records/{record}/?category=lab_result"],
            "full-text search": [f"/records/{record}/?q={quote(term)}" for term in search_terms],
            "access history": [f"/records/{record}/history/"],
            "summary API": [f"/api/v1/records/{record}/summary/"],
            "documents API": [f"/api/v1/records/{record}/documents/"],
            "document download": [f"/documents/{uuid}/content/" for uuid in documents],
        }
        for label, paths in pages.items():
            if paths:
                endpoints.append(load.Endpoint(label, name, tuple(paths), cookie))
    return endpoints


def _profiled(config: Config, stack: Stack, endpoint: load.Endpoint) -> list[subprocess.Popen]:
    """With BENCH_PROFILE=1: py-spy flame graphs of the web workers while the largest summary is loaded."""
    if not (config.profile and endpoint.name == "summary page" and endpoint.patient == "2000"):
        return []
    return [
        subprocess.Popen(
            [
                *(str(Path(sys.executable).with_name("py-spy")), "record", "--nonblocking", "--pid", str(pid)),
                *("--duration", str(int(config.seconds + config.warmup) * len(config.concurrency))),
                *("--output", str(VAR / f"profile-summary-2000-{pid}.svg")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in stack.web_workers()
    ]


def _measure_endpoint(config: Config, endpoint: load.Endpoint, concurrencies: tuple[int, ...]) -> dict:
    status, size = load.check(config, endpoint)
    entry = {"endpoint": endpoint.name, "patient": endpoint.patient, "status": status, "bytes": size}
    if status != 200:
        entry["error"] = f"HTTP {status} on the first request: not loaded"
        return entry
    entry["queries"] = load.queries_per_request(endpoint)
    entry["runs"] = load.load(config, endpoint, concurrencies)
    return entry


def _pg_stat_statements(config: Config, reset: bool) -> list[dict] | str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_preload_libraries")
        if "pg_stat_statements" not in cursor.fetchone()[0]:
            return (
                "pg_stat_statements is not loaded; to see the top queries: "
                "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'; then restart PostgreSQL"
            )
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        if reset:
            cursor.execute("SELECT pg_stat_statements_reset()")
            return []
        cursor.execute(
            "SELECT calls, round(total_exec_time::numeric, 1), round(mean_exec_time::numeric, 2), rows, "
            "left(regexp_replace(query, '\\s+', ' ', 'g'), 300) FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "ORDER BY total_exec_time DESC LIMIT 10"
        )
        columns = ("calls", "total_ms", "mean_ms", "rows", "query")
        return [dict(zip(columns, [*row[:4], row[4]], strict=True)) for row in cursor.fetchall()]


def main() -> int:
    config = Config()
    env = environment(config)
    started = time.monotonic()
    print(f"== healthspace benchmark: database {config.database}, {config.patients} patients ==", flush=True)
    seeded_at = time.monotonic()
    seeded = prepare_database(config, env)
    seed_seconds = round(time.monotonic() - seeded_at, 1)
    os.environ.update(env)
    import django

    django.setup()
    manifest = json.loads(config.manifest.read_text())
    patients = {name: dict(manifest["named"][name]) for name in (*FULL_PATIENTS, "10000") if name in manifest["named"]}
    patients["random"] = dict(manifest["random_patients"][0])
    results: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": _git(),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "configuration": {k: v for k, v in vars(config).items()} | {"settings": "production (bench.settings)"},
        "population": {"counts": manifest["counts"], "seeded_now": seeded, "prepare_seconds": seed_seconds},
    }
    with Stack(config, env) as stack:
        for patient in patients.values():
            patient["cookie"] = load.cookie_for(patient["user_id"])
            patient["deep_cursor"] = _deep_cursor(patient)
        ceiling_cookie = patients["31"]["cookie"]
        ceilings = [
            load.Endpoint("ceiling: minimal view", "", ("/bench/ceiling/",), ceiling_cookie),
            load.Endpoint("ceiling: + one indexed query", "", ("/bench/ceiling-query/",), ceiling_cookie),
        ]
        _pg_stat_statements(config, reset=True)
        measured = []
        for endpoint in ceilings:
            print(f"-- {endpoint.name}", flush=True)
            measured.append(_measure_endpoint(config, endpoint, config.concurrency))
        middle = (config.concurrency[len(config.concurrency) // 2],)
        for endpoint in _endpoints(patients, manifest["search_terms"]):
            concurrencies = config.concurrency if endpoint.patient in FULL_PATIENTS else middle
            print(f"-- {endpoint.name} ({endpoint.patient} documents)", flush=True)
            profilers = _profiled(config, stack, endpoint)
            measured.append(_measure_endpoint(config, endpoint, concurrencies))
            for profiler in profilers:
                profiler.wait()
        results["endpoints"] = measured
        results["top_queries"] = _pg_stat_statements(config, reset=False)
        print("-- pipelines", flush=True)
        results["pipelines"] = _pipelines(config, env, manifest)
    results["total_seconds"] = round(time.monotonic() - started, 1)
    results["targets"] = report.targets(results)
    path = report.write(results, VAR / "results")
    print(report.table(results))
    print(f"\nResults: {path}")
    return 0


def _pipelines(config: Config, env: dict[str, str], manifest: dict) -> dict:
    out: dict = {}
    from apps.records.models import Record

    # Each writer on a record of its own: appends for different records should not wait on each other.
    writers = [
        (owner, str(uuid))
        for owner, uuid in Record.objects.filter(owner__isnull=False)
        .order_by("id")
        .values_list("owner_id", "uuid")[:32]
    ]
    counts = tuple(n for n in (1, 8, 32) if n <= len(writers))
    print("   journal appends", flush=True)
    out["journal_appends"] = pipelines.journal_appends(env, writers, counts)
    print("   summary PDF", flush=True)
    out["summary_pdf"] = pipelines.summary_pdf(manifest["named"], ("31", "2000"))
    print("   live notice after an import", flush=True)
    out["websocket"] = pipelines.websocket_latency(config)
    print("   import", flush=True)
    out["import"] = _import(config)
    print("   login", flush=True)
    out["login"] = pipelines.login(config, [p["email"] for p in manifest["random_patients"]], manifest["password"])
    out["export_zip"] = "not measured: the whole-record export (ZIP) arrives with the FHIR issue"
    return out


def _import(config: Config) -> dict:
    from bench.documents import measure_import

    # A fresh account and record: the burst is timed from its first upload to its last document ready.
    return measure_import(config.imports, seed=config.seed, mode="worker", timeout=600)


if __name__ == "__main__":
    sys.exit(main())
