"""The production stack for the benchmark: its environment, database, web server and worker."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PYTHON = sys.executable
# What the TLS-terminating proxy in front of the servers adds (SECURE_PROXY_SSL_HEADER).
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


@dataclass(frozen=True)
class Config:
    database: str = os.environ.get("BENCH_DATABASE", "healthspace_bench")
    pg_server: str = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
    redis_url: str = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    port: int = int(os.environ.get("BENCH_PORT", "8100"))
    web_workers: int = int(os.environ.get("BENCH_WEB_WORKERS", "2"))  # sized for 2 cores
    patients: int = int(os.environ.get("BENCH_PATIENTS", "10000"))
    seed: int = int(os.environ.get("BENCH_SEED", "2026"))
    seconds: float = float(os.environ.get("BENCH_SECONDS", "4"))
    warmup: float = float(os.environ.get("BENCH_WARMUP", "1"))
    concurrency: tuple[int, ...] = tuple(int(c) for c in os.environ.get("BENCH_CONCURRENCY", "1,8,32").split(","))
    reseed: bool = os.environ.get("BENCH_RESEED", "") not in ("", "0")
    imports: int = int(os.environ.get("BENCH_IMPORTS", "200"))
    profile: bool = os.environ.get("BENCH_PROFILE", "") not in ("", "0")

    @property
    def database_url(self) -> str:
        return f"{self.pg_server}/{self.database}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def manifest(self) -> Path:
        return VAR / "population.json"


def _secrets() -> dict[str, str]:
    """Keys for the bench deployment, made once: the seeded blobs must stay readable."""
    path = VAR / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    VAR.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DOCUMENT_MASTER_KEYS": "bench:" + base64.b64encode(os.urandom(32)).decode(),
        "JOURNAL_KEYS": "bench:" + base64.b64encode(os.urandom(32)).decode(),
        "JOURNAL_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(),
    }
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


def environment(config: Config) -> dict[str, str]:
    """The production settings, as an operator sets them (HEALTHSPACE_ENV=production, DEBUG off)."""
    env = dict(os.environ)
    env.update(_secrets())
    env.update(
        {
            "HEALTHSPACE_ENV": "production",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": config.database_url,
            "REDIS_URL": config.redis_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": f"https://127.0.0.1:{config.port}",
            "HEALTHSPACE_VAR_DIR": str(VAR),
            "MEDIA_ROOT": str(VAR / "media"),
            "STATIC_ROOT": str(VAR / "static"),
            "LOG_LEVEL": "WARNING",
        }
    )
    env.pop("DEBUG", None)
    return env


def _psql(config: Config, sql: str) -> str:
    return subprocess.run(
        ["psql", f"{config.pg_server}/postgres", "-Atqc", sql], check=True, capture_output=True, text=True
    ).stdout.strip()


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def prepare_database(config: Config, env: dict[str, str]) -> bool:
    """Migrate, and seed the population unless this very population is already there. True if seeded."""
    if not config.database.replace("_", "").isalnum():
        raise SystemExit(f"BENCH_DATABASE must be a plain name (letters, digits, _): {config.database!r}")
    exists = _psql(config, f"SELECT 1 FROM pg_database WHERE datname = '{config.database}'") == "1"  # noqa: S608
    manifest = json.loads(config.manifest.read_text()) if config.manifest.exists() else {}
    same = (
        exists
        and not config.reseed
        and manifest.get("seed") == config.seed
        and manifest.get("options", {}).get("patients") == config.patients
    )
    if not same:
        if exists:
            _psql(config, f'DROP DATABASE "{config.database}" WITH (FORCE)')
        shutil.rmtree(VAR / "media", ignore_errors=True)
        _psql(config, f'CREATE DATABASE "{config.database}"')
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    if not same:
        manage(
            env,
            "seed_bench",
            f"--patients={config.patients}",
            f"--seed={config.seed}",
            f"--manifest={config.manifest}",
        )
    return not same


@dataclass
class Stack:
    """The ASGI server with its workers and one Celery worker, as processes of their own."""

    config: Config
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)

    def __enter__(self) -> Stack:
        log = open(VAR / "stack.log", "w")  # kept open while the processes run
        self.processes.append(
            subprocess.Popen(
                [
                    *(PYTHON, "-m", "uvicorn", "healthspace.asgi:application"),
                    *("--host", "127.0.0.1", "--port", str(self.config.port)),
                    *("--workers", str(self.config.web_workers), "--no-access-log", "--log-level", "warning"),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        self.processes.append(
            subprocess.Popen(
                [PYTHON, "-m", "celery", "-A", "healthspace", "worker", "--concurrency=1", "--loglevel=WARNING"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                request = urllib.request.Request(f"{self.config.base_url}/healthz", headers=PROXY_HEADERS)
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"the ASGI server did not answer on {self.config.base_url}/healthz (see {VAR}/stack.log)")

    def web_workers(self) -> list[int]:
        """The uvicorn worker processes (children of its supervisor)."""
        found = subprocess.run(["pgrep", "-P", str(self.processes[0].pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in found.split()]

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
