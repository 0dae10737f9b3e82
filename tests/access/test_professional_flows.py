"""A professional's door, end to end: find, attest, access code, emergency; what the patient sees."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.access.models import AccessCode, AccessEvent, EmergencyAccess
from apps.access.professional import services
from apps.consents.models import SettingKey
from apps.consents.privacy.services import professional_block, toggle_set
from apps.notifications.models import Notification
from tests.factories import DocumentFactory, ProfessionalFactory


@pytest.fixture
def alice_ins(alice_record):
    alice_record.ins = "279035121518989"
    alice_record.save()
    return alice_record


def test_exact_identity_finds_the_patient(dr_martin, alice_ins):
    assert services.patient_find(professional=dr_martin, ins="279035121518989") == alice_ins
    found = services.patient_find(
        professional=dr_martin, family_name="MARTIN", given_name="alice", birth_date=alice_ins.birth_date
    )
    assert found == alice_ins


@pytest.mark.parametrize(
    "identity",
    [
        {"family_name": "Martin", "given_name": "Alice"},  # no birth date
        {"family_name": "Mart", "given_name": "Alice", "birth_date": "1979-03-12"},  # partial name
        {"ins": "27903512151898"},  # partial INS
    ],
)
def test_partial_identity_finds_nothing_and_is_journaled(dr_martin, alice_ins, identity):
    assert services.patient_find(professional=dr_martin, **identity) is None
    event = AccessEvent.objects.order_by("-seq").first()
    assert (event.action, event.outcome, event.record_uuid) == ("record.find", "denied", None)


def test_attesting_care_opens_the_record_and_tells_the_patient_once(dr_martin, alice, alice_record):
    assert services.care_attest(professional=dr_martin, record=alice_record).allowed
    services.care_attest(professional=dr_martin, record=alice_record)
    notices = Notification.objects.filter(recipient=alice, event="professional_first_access")
    assert notices.count() == 1


def test_blocked_professional_attesting_care_sees_nothing(dr_martin, alice, alice_record):
    professional_block(actor=alice, record=alice_record, professional=dr_martin)
    decision = services.care_attest(professional=dr_martin, record=alice_record)
    assert not decision.allowed
    assert "blocked" not in decision.reason.lower()
    assert AccessEvent.objects.filter(actor_uuid=dr_martin.uuid, reason_code="blocked").exists()


def test_access_code_lets_a_professional_in_until_it_ends(dr_martin, alice, alice_record):
    code, plain = services.access_code_create(actor=alice, record=alice_record, hours=1)
    record, decision = services.access_code_redeem(professional=dr_martin, code=plain.lower())
    assert (record, decision.allowed, decision.basis) == (alice_record, True, "access_code")
    assert Notification.objects.filter(recipient=alice, event="access_code_used").exists()
    AccessCode.objects.filter(pk=code.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    from apps.access.policy import Action, decide

    assert not decide(actor=dr_martin, record=alice_record, action=Action.RECORD_VIEW).allowed


def test_revoked_code_is_refused_with_a_clear_message(dr_martin, alice, alice_record):
    code, plain = services.access_code_create(actor=alice, record=alice_record, hours=4)
    services.access_code_revoke(actor=alice, code_uuid=code.uuid)
    with pytest.raises(services.AccessRefused, match="expired or was cancelled"):
        services.access_code_redeem(professional=dr_martin, code=plain)


def test_mistyped_code_is_refused_and_journaled(dr_martin, alice, alice_record):
    services.access_code_create(actor=alice, record=alice_record, hours=4)
    with pytest.raises(services.AccessRefused, match="not valid"):
        services.access_code_redeem(professional=dr_martin, code="ZZZZ-ZZZZ")
    assert AccessEvent.objects.filter(action="access_code.use", outcome="denied", actor_uuid=dr_martin.uuid).exists()


def test_guessing_codes_is_rate_limited(dr_martin, alice, alice_record):
    _code, plain = services.access_code_create(actor=alice, record=alice_record, hours=4)
    for _ in range(services.CODE_TRIES):
        with pytest.raises(services.AccessRefused):
            services.access_code_redeem(professional=dr_martin, code="ZZZZ-ZZZZ")
    with pytest.raises(services.AccessRefused, match="Too many wrong codes"):
        services.access_code_redeem(professional=dr_martin, code=plain)


@pytest.mark.parametrize("hours", [0, 169])
def test_code_duration_is_bounded(alice, alice_record, hours):
    with pytest.raises(ValueError):
        services.access_code_create(actor=alice, record=alice_record, hours=hours)


def test_stranger_cannot_create_a_code(charlie, alice_record):
    from apps.access.refusals import RecordUnavailable

    with pytest.raises(RecordUnavailable):
        services.access_code_create(actor=charlie, record=alice_record, hours=1)
    assert not AccessCode.objects.exists()


def test_emergency_opens_tells_the_patient_at_once_and_shows_in_the_journal(dr_martin, alice, alice_record):
    decision = services.emergency_declare(
        professional=dr_martin, record=alice_record, justification="Unconscious patient brought to the ER"
    )
    assert (decision.allowed, decision.basis) == (True, "break_glass")
    assert Notification.objects.filter(recipient=alice, event="break_glass").exists()
    assert AccessEvent.objects.filter(basis="break_glass", resource_type="emergency").exists()


def test_emergency_needs_a_real_justification(dr_martin, alice_record):
    with pytest.raises(ValueError, match="20 characters"):
        services.emergency_declare(professional=dr_martin, record=alice_record, justification="urgent")


def test_emergency_is_refused_to_a_blocked_professional_and_when_the_patient_opted_out(dr_martin, alice, alice_record):
    professional_block(actor=alice, record=alice_record, professional=dr_martin)
    blocked = services.emergency_declare(
        professional=dr_martin, record=alice_record, justification="Unconscious patient brought to the ER"
    )
    assert (blocked.allowed, blocked.reason_code) == (False, "blocked")
    toggle_set(actor=alice, record=alice_record, key=SettingKey.EMERGENCY_ACCESS, on=False)
    other = ProfessionalFactory()
    opted_out = services.emergency_declare(
        professional=other, record=alice_record, justification="Unconscious patient brought to the ER"
    )
    assert (opted_out.allowed, opted_out.reason_code) == (False, "emergency_access_off")
    assert blocked.reason == opted_out.reason  # neither tells the professional what the person chose
    assert not EmergencyAccess.objects.exists()


def test_patient_cannot_use_the_professional_door(alice, alice_record):
    with pytest.raises(services.AccessRefused):
        services.care_attest(professional=alice, record=alice_record)


# --- Web ------------------------------------------------------------------------------


def test_professional_finds_attests_and_reads_without_manage_controls(as_user, dr_martin, alice_ins):
    client = as_user(dr_martin)
    found = client.post(reverse("pro_find"), {"ins": "279035121518989"})
    assert alice_ins.family_name in found.content.decode()
    opened = client.post(reverse("pro_attest", args=[alice_ins.uuid]))
    assert opened["Location"] == reverse("record_detail", args=[alice_ins.uuid])
    page = client.get(opened["Location"])
    assert page.status_code == 200
    assert reverse("document_upload", args=[alice_ins.uuid]) not in page.content.decode()


def test_professional_does_not_see_masked_documents_in_the_list(as_user, dr_martin, alice, alice_record):
    DocumentFactory(record=alice_record, title="Visible report", category="report")
    hidden = DocumentFactory(record=alice_record, title="Hidden report", category="report", masked=True)
    services.care_attest(professional=dr_martin, record=alice_record)
    page = as_user(dr_martin).get(reverse("record_detail", args=[alice_record.uuid])).content.decode()
    assert "Visible report" in page
    assert "Hidden report" not in page
    assert as_user(dr_martin).get(reverse("document_detail", args=[hidden.uuid])).status_code == 404


def test_partial_identity_search_says_nothing_exists(as_user, dr_martin, alice_ins):
    response = as_user(dr_martin).post(
        reverse("pro_find"), {"family_name": "Martin", "given_name": "Al", "birth_date": "1979-03-12"}
    )
    assert response.status_code == 200
    assert "No patient matches" in response.content.decode()
    assert alice_ins.given_names not in response.content.decode()


def test_professional_enters_a_code_on_the_web(as_user, dr_martin, alice, alice_record):
    _code, plain = services.access_code_create(actor=alice, record=alice_record, hours=1)
    response = as_user(dr_martin).post(reverse("pro_code"), {"code": plain})
    assert response["Location"] == reverse("record_detail", args=[alice_record.uuid])


def test_support_agent_and_operator_cannot_use_the_professional_pages(as_user, sam, olga):
    assert as_user(sam).get(reverse("pro_home")).status_code == 403
    assert as_user(olga).get(reverse("pro_home")).status_code == 403


def test_professional_without_2fa_cannot_reach_the_professional_pages(as_user, db):
    professional = ProfessionalFactory()
    response = as_user(professional).get(reverse("pro_home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("two_factor_setup")


def test_patient_is_told_when_an_ended_code_is_tried(dr_martin, alice, alice_record):
    code, plain = services.access_code_create(actor=alice, record=alice_record, hours=1)
    services.access_code_revoke(actor=alice, code_uuid=code.uuid)
    with pytest.raises(services.AccessRefused):
        services.access_code_redeem(professional=dr_martin, code=plain)
    assert Notification.objects.filter(recipient=alice, event="access_code_refused").exists()
    assert AccessEvent.objects.filter(record_uuid=alice_record.uuid, reason_code="code_expired").exists()
