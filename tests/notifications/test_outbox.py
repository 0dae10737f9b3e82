from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.core.management import call_command
from django.db import transaction
from kombu.exceptions import OperationalError

from apps.notifications.models import OutboxMessage, OutboxStatus
from apps.notifications.services import email_enqueue, outbox_deliver


def _message(subject: str = "Confirm your e-mail") -> EmailMessage:
    return EmailMessage(subject=subject, body="Click the link.", to=["alice@example.test"])


def test_email_is_written_to_the_outbox_and_sent_after_commit(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outbox = email_enqueue(message=_message())
    outbox.refresh_from_db()
    assert outbox.status == OutboxStatus.SENT
    assert [m.subject for m in mail.outbox] == ["Confirm your e-mail"]


def test_email_of_a_rolled_back_transaction_never_leaves(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012
        email_enqueue(message=_message())
        raise RuntimeError("the cause failed")
    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


def test_broker_outage_leaves_the_message_pending_then_flush_sends_it(
    db, django_capture_on_commit_callbacks, monkeypatch
):
    from apps.notifications import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.deliver_outbox_message, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        outbox = email_enqueue(message=_message())
    outbox.refresh_from_db()
    assert outbox.status == OutboxStatus.PENDING
    assert mail.outbox == []

    monkeypatch.undo()
    call_command("flush_outbox")
    outbox.refresh_from_db()
    assert outbox.status == OutboxStatus.SENT
    assert len(mail.outbox) == 1


def test_a_message_delivered_twice_is_sent_once(db):
    outbox = OutboxMessage.objects.create(to=["a@example.test"], subject="Hello", body="b")
    assert outbox_deliver(message_id=outbox.pk) is True
    assert outbox_deliver(message_id=outbox.pk) is False
    assert len(mail.outbox) == 1


def test_smtp_failure_is_recorded_and_retried_later(db, settings, monkeypatch):
    outbox = OutboxMessage.objects.create(to=["a@example.test"], subject="Hello", body="b")

    def smtp_down(self, *args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", smtp_down)
    with pytest.raises(ConnectionRefusedError):
        outbox_deliver(message_id=outbox.pk)
    outbox.refresh_from_db()
    assert (outbox.status, outbox.attempts) == (OutboxStatus.PENDING, 1)
    assert "smtp down" in outbox.last_error
