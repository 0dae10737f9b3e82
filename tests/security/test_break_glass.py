"""Breach 6: a refused emergency access must write nothing but its journal entry, never open later,
and read like "nothing here". A professional the person blocked cannot break the glass."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from apps.access.models import AccessEvent, CareRelationship, EmergencyAccess
from apps.access.policy import Action, decide
from apps.consents.models import SettingKey
from apps.consents.privacy.services import professional_block, toggle_set
from apps.notifications.models import Notification
from tests.conftest import logged_in_client
from tests.factories import ProfessionalFactory, totp_device

pytestmark = pytest.mark.django_db

JUSTIFICATION = {"justification": "Unconscious patient brought to the emergency room"}


def _declare(client, record_uuid):
    return client.post(reverse("pro_emergency", args=[record_uuid]), JUSTIFICATION)


def _page(response) -> str:
    # Per-response tokens (CSRF, CSP nonce) aside, two pages must be the same.
    return re.sub(r'(nonce|value)="[^"]*"', "", response.content.decode())


def _denials(professional, record, reason_code):
    return AccessEvent.objects.filter(
        actor_uuid=professional.uuid,
        record_uuid=record.uuid,
        action=Action.RECORD_VIEW,
        resource_type="emergency",
        outcome="denied",
        reason_code=reason_code,
    )


def test_refused_emergency_leaves_no_access_waiting_for_the_setting_to_come_back(alice, alice_record, dr_martin):
    toggle_set(actor=alice, record=alice_record, key=SettingKey.EMERGENCY_ACCESS, on=False)
    client = logged_in_client(dr_martin)

    refused = _declare(client, alice_record.uuid)

    assert refused.status_code == 404
    assert not EmergencyAccess.objects.exists()
    assert _denials(dr_martin, alice_record, "emergency_access_off").count() == 1
    toggle_set(actor=alice, record=alice_record, key=SettingKey.EMERGENCY_ACCESS, on=True)
    assert client.get(reverse("record_detail", args=[alice_record.uuid])).status_code == 404
    assert not decide(actor=dr_martin, record=alice_record, action=Action.RECORD_VIEW).allowed
    assert not Notification.objects.filter(recipient=alice, event="break_glass").exists()


def test_refused_emergency_reads_exactly_like_a_missing_record(alice, alice_record, dr_martin):
    toggle_set(actor=alice, record=alice_record, key=SettingKey.EMERGENCY_ACCESS, on=False)
    client = logged_in_client(dr_martin)

    refused = _declare(client, alice_record.uuid)
    missing = _declare(client, uuid.uuid4())

    assert refused.status_code == missing.status_code == 404
    assert _page(refused) == _page(missing)
    assert "emergency" not in _page(refused).lower()
    assert AccessEvent.objects.filter(actor_uuid=dr_martin.uuid, reason_code="no_such_record").exists()


def test_blocked_professional_cannot_break_the_glass(alice, alice_record, dr_martin):
    professional_block(actor=alice, record=alice_record, professional=dr_martin)
    client = logged_in_client(dr_martin)

    refused = _declare(client, alice_record.uuid)
    missing = _declare(client, uuid.uuid4())

    assert refused.status_code == 404
    assert _page(refused) == _page(missing)
    assert not EmergencyAccess.objects.exists()
    assert _denials(dr_martin, alice_record, "blocked").count() == 1
    professional_block(actor=alice, record=alice_record, professional=dr_martin, blocked=False)
    assert client.get(reverse("record_detail", args=[alice_record.uuid])).status_code == 404


def test_blocking_one_professional_leaves_emergencies_open_to_the_others(alice, alice_record, dr_martin):
    professional_block(actor=alice, record=alice_record, professional=dr_martin)
    other = ProfessionalFactory()
    totp_device(other)

    opened = _declare(logged_in_client(other), alice_record.uuid)

    assert opened.status_code == 302
    assert opened["Location"] == reverse("record_detail", args=[alice_record.uuid])
    assert EmergencyAccess.objects.filter(professional=other, record=alice_record).count() == 1
    assert Notification.objects.filter(recipient=alice, event="break_glass").count() == 1


def test_emergency_once_blocked_closes_at_once(alice, alice_record, dr_martin):
    client = logged_in_client(dr_martin)
    assert _declare(client, alice_record.uuid).status_code == 302
    professional_block(actor=alice, record=alice_record, professional=dr_martin)
    assert client.get(reverse("record_detail", args=[alice_record.uuid])).status_code == 404


def test_refused_care_attestation_leaves_no_relationship_behind(alice, alice_record, dr_martin):
    professional_block(actor=alice, record=alice_record, professional=dr_martin)
    client = logged_in_client(dr_martin)

    refused = client.post(reverse("pro_attest", args=[alice_record.uuid]))
    missing = client.post(reverse("pro_attest", args=[uuid.uuid4()]))

    assert refused.status_code == missing.status_code == 404
    assert _page(refused) == _page(missing)
    assert not CareRelationship.objects.exists()
    assert AccessEvent.objects.filter(actor_uuid=dr_martin.uuid, reason_code="blocked", outcome="denied").exists()
    professional_block(actor=alice, record=alice_record, professional=dr_martin, blocked=False)
    assert client.get(reverse("record_detail", args=[alice_record.uuid])).status_code == 404


def test_attestation_refused_while_professional_access_is_off_does_not_open_when_it_comes_back(
    alice, alice_record, dr_martin
):
    toggle_set(actor=alice, record=alice_record, key=SettingKey.PROFESSIONAL_ACCESS, on=False)
    client = logged_in_client(dr_martin)
    assert client.post(reverse("pro_attest", args=[alice_record.uuid])).status_code == 404
    toggle_set(actor=alice, record=alice_record, key=SettingKey.PROFESSIONAL_ACCESS, on=True)
    assert not CareRelationship.objects.exists()
    assert client.get(reverse("record_detail", args=[alice_record.uuid])).status_code == 404


def test_patient_reads_the_refused_emergency_in_her_access_history(alice, alice_record, dr_martin):
    toggle_set(actor=alice, record=alice_record, key=SettingKey.EMERGENCY_ACCESS, on=False)
    _declare(logged_in_client(dr_martin), alice_record.uuid)

    page = logged_in_client(alice).get(reverse("access_history", args=[alice_record.uuid]))

    assert page.status_code == 200
    assert "refused: emergency access is turned off" in page.content.decode()


def test_attestation_refused_by_the_persons_choice_is_not_written_even_when_a_code_opens(
    alice, alice_record, dr_martin
):
    from apps.access.professional import services

    _code, plain = services.access_code_create(actor=alice, record=alice_record, hours=1)
    services.access_code_redeem(professional=dr_martin, code=plain)
    toggle_set(actor=alice, record=alice_record, key=SettingKey.PROFESSIONAL_ACCESS, on=False)

    opened = logged_in_client(dr_martin).post(reverse("pro_attest", args=[alice_record.uuid]))

    assert opened.status_code == 302  # the code still opens, as the person chose
    assert not CareRelationship.objects.exists()


def test_emergency_refused_to_a_caring_professional_is_not_written_either(alice, alice_record, dr_martin):
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    toggle_set(actor=alice, record=alice_record, key=SettingKey.EMERGENCY_ACCESS, on=False)

    assert _declare(logged_in_client(dr_martin), alice_record.uuid).status_code == 404

    assert not EmergencyAccess.objects.exists()
    assert _denials(dr_martin, alice_record, "emergency_access_off").count() == 1
