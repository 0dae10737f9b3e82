"""Notifications: in the centre, by e-mail (at once or in a daily summary), as the person chose."""

from __future__ import annotations

from django.core import mail
from django.urls import reverse

from apps.notifications.models import EmailMode, Notification, NotificationEvent, OutboxMessage
from apps.notifications.services import daily_digest_send, notify, preference_set


def _notify(user, key="document_ready:1"):
    return notify(recipient=user, event="document_ready", dedup_key=key)


def test_notification_is_shown_once_however_often_it_is_delivered(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = _notify(alice)
        second = _notify(alice)
    assert first is not None
    assert second is None
    assert Notification.objects.filter(recipient=alice).count() == 1
    assert len(mail.outbox) == 1


def test_person_who_turned_an_event_off_gets_nothing(alice):
    preference_set(user=alice, event="document_ready", in_app=False, email=EmailMode.OFF)
    assert _notify(alice) is None
    assert not Notification.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_in_app_only_sends_no_email(alice):
    preference_set(user=alice, event="document_ready", in_app=True, email=EmailMode.OFF)
    _notify(alice)
    assert Notification.objects.filter(recipient=alice, read_at__isnull=True).count() == 1
    assert not OutboxMessage.objects.exists()


def test_daily_summary_sends_one_email_for_several_events(alice, django_capture_on_commit_callbacks):
    preference_set(user=alice, event="document_ready", in_app=True, email=EmailMode.DAILY)
    for i in range(3):
        _notify(alice, key=f"document_ready:{i}")
    assert not OutboxMessage.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert daily_digest_send(user=alice) == 3
    assert len(mail.outbox) == 1
    assert "3" in mail.outbox[0].body
    assert daily_digest_send(user=alice) == 0  # nothing twice


def test_email_is_written_in_the_persons_language(alice, django_capture_on_commit_callbacks):
    alice.language = "fr"
    alice.save()
    with django_capture_on_commit_callbacks(execute=True):
        _notify(alice)
    assert "document" in mail.outbox[0].subject.lower()
    assert mail.outbox[0].subject != "A new document is in your health space"


def test_preferences_page_saves_choices(as_user, alice):
    form = {f"{event}-email": "immediate" for event in NotificationEvent.values}
    form.update({f"{event}-in_app": "on" for event in NotificationEvent.values})
    form.update({"document_ready-email": "daily", "import_failed-email": "off"})
    del form["import_failed-in_app"]
    response = as_user(alice).post(reverse("notification_preferences"), form)
    assert response.status_code == 302
    prefs = {p.event: (p.in_app, p.email) for p in alice.notification_preferences.all()}
    assert prefs["document_ready"] == (True, "daily")
    assert prefs["import_failed"] == (False, "off")
    assert prefs["break_glass"] == (True, "immediate")


def test_preferences_page_refuses_an_unknown_choice(as_user, alice):
    response = as_user(alice).post(reverse("notification_preferences"), {"document_ready-email": "hourly"})
    assert response.status_code == 200
    assert not alice.notification_preferences.exists()


def test_api_preferences_read_and_change(as_user, alice):
    client = as_user(alice)
    assert {p["event"] for p in client.get("/api/v1/notifications/preferences/").json()} == set(
        NotificationEvent.values
    )
    response = client.put(
        "/api/v1/notifications/preferences/",
        [{"event": "import_failed", "in_app": True, "email": "off"}],
        content_type="application/json",
    )
    assert response.status_code == 200
    assert alice.notification_preferences.get().email == "off"
