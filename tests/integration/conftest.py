"""Helpers for the integration run: the machine's real Redis, stopped and started again.

The rest of the suite needs Redis, so whatever a test does to it, the safety
nets below bring it back up: after every test here, and once more at the end
of the session.
"""

from __future__ import annotations

import os
import subprocess
import time
from urllib.parse import urlsplit

import pytest


def redis_address() -> tuple[str, int] | None:
    """Host and port of the Redis that REDIS_URL names, or None when it is unset."""
    url = os.environ.get("REDIS_URL", "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 6379


def redis_answers(timeout: float = 1.0) -> bool:
    import redis

    address = redis_address()
    if address is None:
        return False
    client = redis.Redis(host=address[0], port=address[1], socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def wait_until(condition, seconds: float, step: float = 0.1) -> bool:
    """Bounded wait: True as soon as ``condition()`` holds, False after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


def redis_stop(seconds: float = 10.0) -> None:
    """SHUTDOWN NOSAVE the real Redis, and wait until it no longer answers."""
    import redis

    host, port = redis_address()
    client = redis.Redis(host=host, port=port, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.shutdown(nosave=True)
    except redis.ConnectionError:
        pass  # the server closes the connection as it goes: that is the expected answer
    finally:
        client.close()
    if not wait_until(lambda: not redis_answers(timeout=0.3), seconds):
        raise RuntimeError(f"Redis on {host}:{port} still answers after SHUTDOWN NOSAVE")


def redis_start(seconds: float = 15.0) -> None:
    """Start Redis exactly as the machine does, and wait until PING answers."""
    host, port = redis_address()
    if redis_answers():
        return
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            host,
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
        timeout=seconds,
        cwd="/tmp",
        capture_output=True,
    )
    if not wait_until(redis_answers, seconds, step=0.2):
        raise RuntimeError(f"Redis on {host}:{port} did not answer PING within {seconds:.0f} s of being started")


def _bring_redis_back() -> None:
    if redis_address() is not None and not redis_answers():
        redis_start()


@pytest.fixture(autouse=True)
def _redis_back_up_after_each_test():
    """Safety net: a test that leaves Redis down (a failure before its own finally) gets it back."""
    yield
    _bring_redis_back()


@pytest.fixture(scope="session", autouse=True)
def _redis_back_up_at_session_end():
    yield
    _bring_redis_back()
