"""Against the machine's real Redis, with a real Celery worker consuming the queue."""

from __future__ import annotations

import os
import time

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import transaction

from apps.notifications.models import OutboxMessage, OutboxStatus
from apps.notifications.services import email_enqueue

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: `make test` sets it for the PostgreSQL + Redis run"
    ),
]


@pytest.fixture
def real_worker():
    from celery.contrib.testing.worker import start_worker

    from healthspace.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = os.environ["REDIS_URL"]
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield app
    app.conf.task_always_eager = True


def _wait_for(condition, seconds: float = 20.0) -> bool:
    # Bounded wait for the worker; behaviour is asserted, not speed.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_worker_delivers_the_outbox_through_redis(real_worker):
    with transaction.atomic():
        outbox = email_enqueue(message=EmailMessage(subject="Welcome", body="b", to=["alice@example.test"]))
    assert _wait_for(lambda: OutboxMessage.objects.get(pk=outbox.pk).status == OutboxStatus.SENT)
    assert [m.subject for m in mail.outbox] == ["Welcome"]


def test_healthz_sees_the_real_broker(real_worker, client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == {"ok": True, "mode": "reachable"}
