"""The door sends nothing: listeners named in settings hear each journaled decision."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import transaction

from apps.access import listeners
from apps.access.journal import denials_kept
from apps.access.models import AccessEvent
from apps.access.policy import Action, authorize
from apps.notifications.models import Notification

ACCESS = Path(__file__).resolve().parents[2] / "apps" / "access"


class Failing:
    def wants(self, decided):
        return True

    def heard(self, decided):
        raise RuntimeError("listener down")


class Recording:
    heard_actions: list[str] = []

    def wants(self, decided):
        return True

    def heard(self, decided):
        Recording.heard_actions.append((decided.action, decided.event.outcome))


@pytest.fixture
def listening(settings):
    def use(*paths):
        settings.ACCESS_DECISION_LISTENERS = list(paths)
        listeners.decision_listeners.cache_clear()

    yield use
    listeners.decision_listeners.cache_clear()


def test_the_access_app_imports_nothing_from_notifications():
    offenders = [p.name for p in ACCESS.rglob("*.py") if "apps.notifications" in p.read_text()]
    assert offenders == []


def test_a_listener_hears_the_journaled_decision(listening, alice, alice_record):
    Recording.heard_actions = []
    listening("tests.access.test_listeners.Recording")
    authorize(actor=alice, record=alice_record, action=Action.RECORD_VIEW)
    assert Recording.heard_actions == [("record.view", "allowed")]


def test_a_failing_listener_does_not_change_the_decision(listening, alice, alice_record):
    listening("tests.access.test_listeners.Failing")
    decision = authorize(actor=alice, record=alice_record, action=Action.RECORD_VIEW)
    assert decision.allowed
    assert AccessEvent.objects.filter(actor_uuid=alice.uuid, action="record.view").exists()


def test_without_listeners_the_door_tells_nobody(listening, alice_record, sam):
    from tests.assistance.helpers import mandate_for

    mandate_for(sam, alice_record, ["upload_documents"])
    listening()
    authorize(actor=sam, record=alice_record, action=Action.DOCUMENT_UPLOAD)
    assert not Notification.objects.filter(event="mandate_acted").exists()


def _refuse_then_fail(actor, record):
    with transaction.atomic():
        authorize(actor=actor, record=record, action=Action.RECORD_VIEW)
        raise RuntimeError("the caller fails after the refusal")


def test_a_denial_outlives_the_callers_rollback_with_listeners_on(charlie, alice_record):
    with denials_kept(), pytest.raises(RuntimeError):
        _refuse_then_fail(charlie, alice_record)
    assert AccessEvent.objects.filter(actor_uuid=charlie.uuid, outcome="denied").count() == 1


def test_break_glass_is_told_by_its_listener(alice, alice_record, dr_martin):
    from apps.access.professional import services

    services.emergency_declare(professional=dr_martin, record=alice_record, justification="Unconscious at the ER, x")
    assert Notification.objects.filter(recipient=alice, event="break_glass").count() == 1


def test_first_professional_opening_is_told_once(alice, alice_record, dr_martin):
    from apps.access.professional import services

    services.care_attest(professional=dr_martin, record=alice_record)
    authorize(actor=dr_martin, record=alice_record, action=Action.RECORD_VIEW)
    assert Notification.objects.filter(recipient=alice, event="professional_first_access").count() == 1
