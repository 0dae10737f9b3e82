"""Rule 4 for real: the machine's Redis stopped under a running Celery worker, then started again.

While Redis is down, uploads are still accepted (stored, encrypted, RECEIVED)
and e-mails wait in the outbox; once it is back, the periodic recovery jobs
(`resume_stalled_documents`, `flush_outbox`) finish every piece of work,
exactly once. Every wait is bounded and Redis is always started again.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.urls import reverse

from apps.intake.tasks import resume_stalled_documents
from apps.notifications.models import EmailMode, Notification, OutboxMessage, OutboxStatus
from apps.notifications.services import email_enqueue, preference_for, push_document_status
from apps.notifications.tasks import flush_outbox
from apps.records import documents
from apps.records.models import Document, DocumentStatus
from apps.records.selectors import record_followers
from tests.conftest import logged_in_client
from tests.factories import GuardianshipFactory
from tests.integration.conftest import redis_answers, redis_start, redis_stop, wait_until
from tests.records.conftest import pdf_bytes

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: `make test` sets it for the PostgreSQL + Redis run"
    ),
]

# Generous bounds: behaviour is asserted, not speed. The worker retries its
# broker connection every few seconds (2, 4, 6... s), so it is back well within.
OUTAGE_CALL_SECONDS = 30.0
RECOVERY_SECONDS = 90.0


@pytest.fixture
def real_worker():
    from celery.contrib.testing.worker import start_worker

    from healthspace.celery import app

    previous_broker = app.conf.broker_url
    app.conf.task_always_eager = False
    app.conf.broker_url = os.environ["REDIS_URL"]
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield app
    finally:
        app.conf.broker_url = previous_broker
        app.conf.task_always_eager = True


def _upload(actor, record, name: str, data: bytes) -> Document:
    # A committed transaction, as in a request: on_commit hands the import to
    # the broker, which is down; document_enqueue catches that.
    with transaction.atomic():
        outcome = documents.document_upload(actor=actor, record=record, filename=name, data=data)
    assert outcome.duplicate is False
    return outcome.document


def _queue_is_empty() -> bool:
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=2)
    try:
        return client.llen("celery") == 0
    finally:
        client.close()


def test_redis_outage_delays_uploads_and_mail_and_loses_nothing(real_worker, alice, alice_record, alice_child, bob):
    # The child's record has two followers: alice and bob, both parents.
    GuardianshipFactory(guardian=bob, record=alice_child)
    web = logged_in_client(alice)
    planned = [
        (alice_record, "analyse-1.pdf", pdf_bytes(1)),
        (alice_record, "analyse-2.pdf", pdf_bytes(2)),
        (alice_record, "analyse-3.pdf", pdf_bytes(3)),
        (alice_child, "carnet-leo.pdf", pdf_bytes(4)),
    ]
    web_data = pdf_bytes(5)
    assert redis_answers(), "Redis must be up before the outage is staged"

    redis_stop()
    try:
        assert not redis_answers()
        started = time.monotonic()
        uploaded = [_upload(alice, record, name, data) for record, name, data in planned]
        # The web page too: middleware, session and the view, with the cache and broker gone.
        response = web.post(
            reverse("document_upload", args=[alice_record.uuid]),
            {"files": SimpleUploadedFile("ordonnance.pdf", web_data, content_type="application/pdf")},
            HTTP_ACCEPT="application/json",
        )
        assert response.status_code == 200, response.content
        [result] = response.json()["results"]
        assert result["ok"] is True
        assert result["status"] == DocumentStatus.RECEIVED
        uploaded.append(Document.objects.get(uuid=result["document"]))
        with transaction.atomic():
            waiting_mail = [
                email_enqueue(message=EmailMessage(subject=f"Outage mail {n}", body="b", to=["carol@example.test"]))
                for n in (1, 2)
            ]
        # A live push during the outage fails quietly (pages poll), without raising.
        push_document_status(
            record_uuid=alice_record.uuid, document_uuid=uploaded[0].uuid, status=DocumentStatus.RECEIVED
        )
        assert time.monotonic() - started < OUTAGE_CALL_SECONDS, "calls during the outage must not hang"

        # Accepted and durable: rows RECEIVED, encrypted blobs stored, mail pending.
        for document in Document.objects.filter(pk__in=[d.pk for d in uploaded]):
            assert document.status == DocumentStatus.RECEIVED
            assert document.blob_name
            assert default_storage.exists(document.blob_name)
        assert Document.objects.count() == len(uploaded)
        assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.PENDING}
        assert OutboxMessage.objects.count() == len(waiting_mail)
        assert mail.outbox == []
        assert not redis_answers(), "Redis came back during the outage: the test proves nothing"
    finally:
        redis_start()

    assert redis_answers()
    document_ids = [d.pk for d in uploaded]
    # The beat runs these jobs periodically; they leave alone work younger than
    # a minute (its hand-over may still be under way): let that time pass.
    Document.objects.filter(pk__in=document_ids).update(created_at=F("created_at") - timedelta(minutes=10))
    OutboxMessage.objects.filter(status=OutboxStatus.PENDING).update(created_at=F("created_at") - timedelta(minutes=10))
    assert flush_outbox() == len(waiting_mail)
    assert resume_stalled_documents() == len(uploaded)

    def all_ready() -> bool:
        return Document.objects.filter(pk__in=document_ids, status=DocumentStatus.READY).count() == len(uploaded)

    assert wait_until(all_ready, RECOVERY_SECONDS, step=0.2), list(
        Document.objects.values_list("original_filename", "status", "attempts")
    )
    # One e-mail per document per follower, plus the two that waited.
    followers = {d.pk: record_followers(record=d.record) for d in Document.objects.filter(pk__in=document_ids)}
    by_mail = sum(
        1
        for people in followers.values()
        for person in people
        if preference_for(user=person, event="document_ready").email == EmailMode.IMMEDIATE
    )
    expected_mail = len(waiting_mail) + by_mail

    def all_sent() -> bool:
        return (
            OutboxMessage.objects.count() == expected_mail
            and not OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists()
        )

    assert wait_until(all_sent, RECOVERY_SECONDS, step=0.2), list(
        OutboxMessage.objects.values_list("subject", "status", "attempts", "last_error")
    )

    # The next beat round finds nothing left, and re-running it sends nothing twice.
    assert flush_outbox() == 0
    assert resume_stalled_documents() == 0
    assert wait_until(_queue_is_empty, 30.0)
    time.sleep(1.0)  # let a duplicate delivery, if any, land before counting

    assert sorted(Document.objects.values_list("attempts", flat=True)) == [1] * len(uploaded)
    for document in Document.objects.filter(pk__in=document_ids):
        for person in followers[document.pk]:
            assert (
                Notification.objects.filter(
                    recipient=person, document_uuid=document.uuid, event="document_ready"
                ).count()
                == 1
            )
    assert Notification.objects.count() == sum(len(people) for people in followers.values())
    assert sum(len(people) for people in followers.values()) == len(uploaded) + 1  # bob follows the child's record
    sent = Counter((m.subject, tuple(m.to)) for m in mail.outbox)
    stored = Counter((m.subject, tuple(m.to)) for m in OutboxMessage.objects.all())
    assert sent == stored
    assert len(mail.outbox) == expected_mail
    assert sent[("Outage mail 1", ("carol@example.test",))] == 1
    assert sent[("Outage mail 2", ("carol@example.test",))] == 1
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}

    # And the content that waited out the outage is intact.
    first = uploaded[0]
    _document, content = documents.document_content(actor=alice, document_uuid=first.uuid)
    assert content == planned[0][2]
