"""Support mandates: every scope × state × action, the agent's conditions, confirmation, revocation, the PDF."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.access.models import AccessEvent
from apps.access.policy import Action, Resource, authorize, decide
from apps.access.refusals import RecordUnavailable
from apps.assistance import services
from apps.assistance.bases import ACTION_SCOPES
from apps.assistance.models import ConfirmationMethod, Mandate, MandateScope, StructureManager
from apps.notifications.models import Notification, OutboxMessage
from apps.records.selectors import records_for
from tests.assistance.helpers import mandate_for
from tests.factories import SupportAgentFactory, UserFactory, totp_device

STATES = ["active", "expired", "revoked", "unconfirmed", "other_structure_agent", "agent_without_2fa"]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("scope", MandateScope.values)
@pytest.mark.parametrize("action", Action.values)
def test_agent_may_do_exactly_what_the_scope_allows_while_active(alice, alice_record, sam, scope, action, state):
    mandate = mandate_for(sam, alice_record, [scope], confirm=state != "unconfirmed")
    now = timezone.now()
    if state == "expired":
        Mandate.objects.filter(pk=mandate.pk).update(expires_at=now - timedelta(seconds=1))
    elif state == "revoked":
        Mandate.objects.filter(pk=mandate.pk).update(revoked_at=now)
    elif state == "other_structure_agent":  # sam moved to another structure: the mandate stays with the first
        sam.support_structure = SupportAgentFactory().support_structure
        sam.save()
    elif state == "agent_without_2fa":
        sam.totpdevice_set.all().delete()
    decision = decide(actor=sam, record=alice_record, action=action)
    expected = state == "active" and scope in ACTION_SCOPES.get(action, set())
    assert decision.allowed is expected
    if expected:
        assert (decision.basis, decision.on_behalf_of) == ("mandate", alice)


def test_another_agent_of_the_same_structure_gets_nothing(alice_record, sam):
    mandate_for(sam, alice_record, MandateScope.values)
    colleague = SupportAgentFactory(support_structure=sam.support_structure)
    totp_device(colleague)
    for action in Action.values:
        assert not decide(actor=colleague, record=alice_record, action=action).allowed


def test_without_a_mandate_the_agent_sees_nothing(alice_record, sam):
    for action in Action.values:
        decision = decide(actor=sam, record=alice_record, action=action)
        assert not decision.allowed
        assert decision.reason_code == "support_without_mandate"
    assert records_for(actor=sam) == []


def test_account_help_gives_identity_but_nothing_medical(alice_record, sam):
    mandate_for(sam, alice_record, [MandateScope.ACCOUNT_HELP])
    assert records_for(actor=sam) == [alice_record]
    decision = authorize(actor=sam, record=alice_record, action=Action.DOCUMENT_READ)
    assert not decision.allowed
    assert "read documents" in decision.reason
    assert AccessEvent.objects.filter(actor_uuid=sam.uuid, reason_code="scope_missing.read_documents").exists()


def test_missing_print_scope_is_named_in_plain_words(alice_record, sam):
    mandate_for(sam, alice_record, [MandateScope.UPLOAD_DOCUMENTS])
    decision = decide(actor=sam, record=alice_record, action=Action.PROFILE_READ, resource=Resource("summary_pdf"))
    assert decision.reason_code == "scope_missing.print_summary"
    assert "print the health summary" in decision.reason


def test_acts_are_journaled_as_sam_for_alice(alice, alice_record, sam):
    mandate = mandate_for(sam, alice_record, [MandateScope.UPLOAD_DOCUMENTS])
    authorize(actor=sam, record=alice_record, action=Action.DOCUMENT_UPLOAD)
    event = AccessEvent.objects.order_by("-seq").first()
    assert (event.actor_uuid, event.on_behalf_of_uuid, event.basis) == (sam.uuid, alice.uuid, "mandate")
    steps = set(AccessEvent.objects.filter(resource_uuid=mandate.uuid).values_list("action", "reason_code"))
    assert steps == {
        ("mandate.start", "mandate_started"),
        ("delegation.manage", "owner"),  # alice, on her own page
        ("mandate.confirm", "mandate_confirmed_by_person"),
    }


@pytest.mark.parametrize("days", [0, 366, -1])
def test_duration_is_one_day_to_twelve_months(alice_record, sam, days):
    with pytest.raises(services.MandateRefused):
        mandate_for(sam, alice_record, [MandateScope.ACCOUNT_HELP], days=days, confirm=False)
    assert not Mandate.objects.exists()


@pytest.mark.parametrize("scopes", [[], ["read_history"], ["account_help", "everything"]])
def test_unknown_or_no_scope_is_refused(alice_record, sam, scopes):
    with pytest.raises(services.MandateRefused):
        mandate_for(sam, alice_record, scopes, confirm=False)


def test_only_a_support_agent_with_two_factor_may_start(alice_record, sam, charlie, dr_martin):
    sam.totpdevice_set.all().delete()
    for actor in (sam, charlie, dr_martin):
        with pytest.raises(RecordUnavailable):
            mandate_for(actor, alice_record, [MandateScope.ACCOUNT_HELP], confirm=False)
    assert not Mandate.objects.exists()


def test_email_code_is_sent_and_only_its_hash_kept(alice, alice_record, sam):
    mandate = services.mandate_start(
        agent=sam, record=alice_record, scopes=["account_help"], days=1, method=ConfirmationMethod.EMAIL_CODE
    )
    message = OutboxMessage.objects.get(to=[alice.email])
    code = re.search(r"\b(\d{6})\b", message.body).group(1)
    assert code not in mandate.code_hash
    confirmed = services.mandate_confirm(agent=sam, mandate_uuid=mandate.uuid, code=code)
    assert confirmed.confirmed_at is not None
    assert Notification.objects.filter(recipient=alice, event="mandate_confirmed").exists()


def test_email_code_needs_an_email(sam):
    from tests.factories import RecordFactory

    with pytest.raises(services.MandateRefused):
        services.mandate_start(
            agent=sam, record=RecordFactory(), scopes=["account_help"], days=1, method=ConfirmationMethod.EMAIL_CODE
        )


def test_five_wrong_codes_cancel_the_mandate_and_tell_the_person(alice, alice_record, sam):
    mandate = services.mandate_start(
        agent=sam, record=alice_record, scopes=["account_help"], days=1, method=ConfirmationMethod.EMAIL_CODE
    )
    for _ in range(4):
        with pytest.raises(services.MandateRefused, match="not right"):
            services.mandate_confirm(agent=sam, mandate_uuid=mandate.uuid, code="000000")
    with pytest.raises(services.MandateRefused, match="Too many"):
        services.mandate_confirm(agent=sam, mandate_uuid=mandate.uuid, code="000000")
    mandate.refresh_from_db()
    assert mandate.revoked_at is not None
    assert mandate.state() == "cancelled"
    assert Notification.objects.filter(recipient=alice, event="mandate_ended").exists()
    # Even the right code does nothing now.
    with pytest.raises(services.MandateRefused):
        services.mandate_confirm(agent=sam, mandate_uuid=mandate.uuid, code=mandate.number)
    assert not decide(actor=sam, record=alice_record, action=Action.RECORD_VIEW).allowed
    assert AccessEvent.objects.filter(action="mandate.confirm", reason_code="wrong_code").count() == 4
    assert AccessEvent.objects.filter(action="mandate.confirm", reason_code="too_many_tries").count() == 1


def test_confirmation_comes_within_the_hour(alice_record, sam):
    mandate = mandate_for(sam, alice_record, ["account_help"], confirm=False)
    Mandate.objects.filter(pk=mandate.pk).update(created_at=timezone.now() - timedelta(hours=2))
    with pytest.raises(services.MandateRefused):
        services.mandate_confirm(agent=sam, mandate_uuid=mandate.uuid, code=mandate.number)


def test_another_agent_cannot_confirm_or_print(alice_record, sam):
    mandate = mandate_for(sam, alice_record, ["account_help"], confirm=False)
    colleague = SupportAgentFactory(support_structure=sam.support_structure)
    totp_device(colleague)
    with pytest.raises(RecordUnavailable):
        services.mandate_confirm(agent=colleague, mandate_uuid=mandate.uuid, code=mandate.number)
    with pytest.raises(RecordUnavailable):
        services.mandate_pdf(agent=colleague, mandate_uuid=mandate.uuid)


def test_person_revokes_and_access_ends_at_once(alice, alice_record, sam):
    mandate = mandate_for(sam, alice_record, [MandateScope.UPLOAD_DOCUMENTS])
    services.mandate_revoke(actor=alice, mandate_uuid=mandate.uuid)
    mandate.refresh_from_db()
    assert (mandate.revoked_by, mandate.state()) == (alice, "revoked")
    assert not decide(actor=sam, record=alice_record, action=Action.DOCUMENT_UPLOAD).allowed
    assert Notification.objects.filter(recipient=alice, event="mandate_ended").exists()
    assert AccessEvent.objects.filter(
        actor_uuid=alice.uuid, action=Action.DELEGATION_MANAGE, resource_uuid=mandate.uuid, outcome="allowed"
    ).exists()


def test_parent_revokes_a_mandate_on_the_child_record(alice, alice_child, sam):
    mandate = mandate_for(sam, alice_child, [MandateScope.ACCOUNT_HELP])
    assert services.mandates_for_record(actor=alice, record=alice_child) == [mandate]
    services.mandate_revoke(actor=alice, mandate_uuid=mandate.uuid)
    assert Mandate.objects.active().count() == 0


def test_structure_manager_revokes(alice_record, sam):
    manager = UserFactory()
    StructureManager.objects.create(user=manager, structure=sam.support_structure)
    mandate = mandate_for(sam, alice_record, [MandateScope.ACCOUNT_HELP])
    assert services.mandates_of_structure(manager=manager) == [mandate]
    services.mandate_revoke(actor=manager, mandate_uuid=mandate.uuid)
    mandate.refresh_from_db()
    assert mandate.revoked_by == manager
    assert AccessEvent.objects.filter(actor_uuid=manager.uuid, reason_code="structure_manager").exists()


def test_manager_of_another_structure_cannot_revoke(alice_record, sam, charlie):
    other = UserFactory()
    StructureManager.objects.create(user=other, structure=SupportAgentFactory().support_structure)
    mandate = mandate_for(sam, alice_record, [MandateScope.ACCOUNT_HELP])
    assert services.mandates_of_structure(manager=other) == []
    for actor in (other, charlie, sam):
        with pytest.raises(RecordUnavailable):
            services.mandate_revoke(actor=actor, mandate_uuid=mandate.uuid)
    assert Mandate.objects.active().count() == 1


def test_the_agent_lists_only_their_mandates(alice_record, bob, sam):
    mine = mandate_for(sam, alice_record, ["account_help"])
    colleague = SupportAgentFactory(support_structure=sam.support_structure)
    totp_device(colleague)
    mandate_for(colleague, bob.own_record, ["account_help"])
    assert services.mandates_of_agent(agent=sam) == [mine]


def test_the_mandate_pdf_says_who_what_and_until_when(alice_record, sam):
    from pypdf import PdfReader

    mandate = mandate_for(sam, alice_record, ["account_help", "upload_documents"], days=30, confirm=False)
    pdf = services.mandate_pdf(agent=sam, mandate_uuid=mandate.uuid)
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert mandate.number in text
    assert "Alice" in text
    assert "Sam Leroy" in text
    assert sam.support_structure.name in text
    assert "help with the account" in text
    assert "add documents" in text
    from django.utils.formats import date_format

    assert date_format(timezone.localtime(mandate.expires_at), "DATE_FORMAT") in text
    assert "Signature" in text


def test_the_person_is_told_when_the_agent_uses_the_mandate(alice, alice_record, sam):
    mandate_for(sam, alice_record, [MandateScope.UPLOAD_DOCUMENTS])
    authorize(actor=sam, record=alice_record, action=Action.DOCUMENT_UPLOAD)
    assert Notification.objects.filter(recipient=alice, event="mandate_acted").count() == 1


def test_print_summary_lets_the_agent_make_the_summary_pdf_and_nothing_more(alice_record, sam):
    from apps.summaries import exports
    from apps.summaries.models import ExportStatus

    mandate_for(sam, alice_record, [MandateScope.PRINT_SUMMARY])
    export = exports.summary_export_request(actor=sam, record=alice_record)
    assert export.status == ExportStatus.READY
    assert exports.summary_export_download(actor=sam, export_uuid=export.uuid).startswith(b"%PDF")
    assert not authorize(actor=sam, record=alice_record, action=Action.DOCUMENT_READ).allowed


def test_without_print_summary_the_agent_cannot_make_the_summary_pdf(alice_record, sam):
    from apps.summaries import exports
    from apps.summaries.models import SummaryExport

    mandate_for(sam, alice_record, [MandateScope.UPLOAD_DOCUMENTS])
    with pytest.raises(RecordUnavailable):
        exports.summary_export_request(actor=sam, record=alice_record)
    assert not SummaryExport.objects.exists()
