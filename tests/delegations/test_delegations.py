"""Caregivers: every basis × scope × expiry/revocation, and the invitation's bad inputs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.access.models import AccessEvent
from apps.access.policy import Action, decide
from apps.access.refusals import RecordUnavailable
from apps.delegations import services
from apps.delegations.bases import ACTION_SCOPES
from apps.delegations.models import Delegation, Scope
from apps.notifications.models import Notification
from apps.records.selectors import records_for


def delegate(alice, alice_record, bob, scopes, **fields) -> Delegation:
    delegation, _token = services.delegation_invite(actor=alice, record=alice_record, email=bob.email, scopes=scopes)
    Delegation.objects.filter(pk=delegation.pk).update(delegate=bob, accepted_at=timezone.now(), **fields)
    return delegation


@pytest.mark.parametrize("state", ["active", "expired", "revoked", "not_accepted"])
@pytest.mark.parametrize("scope", Scope.values)
@pytest.mark.parametrize("action", Action.values)
def test_caregiver_may_do_exactly_what_the_scope_allows_while_active(alice, alice_record, bob, scope, action, state):
    delegation = delegate(alice, alice_record, bob, [scope])
    now = timezone.now()
    if state == "expired":
        Delegation.objects.filter(pk=delegation.pk).update(expires_at=now - timedelta(seconds=1))
    elif state == "revoked":
        Delegation.objects.filter(pk=delegation.pk).update(revoked_at=now)
    elif state == "not_accepted":
        Delegation.objects.filter(pk=delegation.pk).update(accepted_at=None, delegate=None)
    decision = decide(actor=bob, record=alice_record, action=action)
    expected = state == "active" and scope in ACTION_SCOPES.get(action, set())
    assert decision.allowed is expected
    if expected:
        assert (decision.basis, decision.on_behalf_of) == ("delegation", alice)


def test_acts_are_journaled_as_bob_for_alice(alice, alice_record, bob):
    from apps.access.policy import authorize

    delegate(alice, alice_record, bob, [Scope.READ_DOCUMENTS])
    authorize(actor=bob, record=alice_record, action=Action.DOCUMENT_LIST)
    event = AccessEvent.objects.order_by("-seq").first()
    assert (event.actor_uuid, event.on_behalf_of_uuid, event.basis) == (bob.uuid, alice.uuid, "delegation")


def test_missing_scope_is_refused_journaled_and_named(alice, alice_record, bob):
    from apps.access.policy import authorize

    delegate(alice, alice_record, bob, [Scope.READ_DOCUMENTS])
    decision = authorize(actor=bob, record=alice_record, action=Action.DOCUMENT_UPLOAD)
    assert not decision.allowed
    assert "add documents" in decision.reason
    assert AccessEvent.objects.filter(actor_uuid=bob.uuid, reason_code="scope_missing.upload_documents").exists()


def test_a_delegate_can_never_delegate_further(alice, alice_record, bob, charlie):
    delegate(alice, alice_record, bob, Scope.values)
    with pytest.raises(RecordUnavailable):
        services.delegation_invite(actor=bob, record=alice_record, email=charlie.email, scopes=[Scope.READ_DOCUMENTS])
    assert Delegation.objects.count() == 1


def test_a_parent_cannot_make_the_other_parent_caregiver_of_their_childs_record(alice, alice_child, bob):
    from apps.records.models import Guardianship

    Guardianship.objects.create(guardian=bob, record=alice_child)
    with pytest.raises(services.DelegationRefused, match="already manages the record"):
        services.delegation_invite(actor=alice, record=alice_child, email=bob.email, scopes=[Scope.READ_DOCUMENTS])
    assert not Delegation.objects.exists()


def test_invitation_accepted_by_the_invited_account(alice, alice_record, bob):
    _delegation, token = services.delegation_invite(
        actor=alice, record=alice_record, email="BOB@example.test", scopes=[Scope.READ_DOCUMENTS]
    )
    accepted = services.delegation_accept(user=bob, token=token)
    assert (accepted.delegate, accepted.accepted_at is not None) == (bob, True)
    assert Notification.objects.filter(recipient=alice, event="delegation_accepted").exists()
    assert alice_record in records_for(actor=bob)


def test_invitation_accepted_by_the_wrong_account_is_refused(alice, alice_record, charlie, bob):
    _delegation, token = services.delegation_invite(
        actor=alice, record=alice_record, email=bob.email, scopes=[Scope.READ_DOCUMENTS]
    )
    with pytest.raises(services.DelegationRefused, match="another e-mail address"):
        services.delegation_accept(user=charlie, token=token)
    assert not Delegation.objects.active().exists()


def test_invitation_accepted_after_expiry_is_refused(alice, alice_record, bob):
    delegation, token = services.delegation_invite(
        actor=alice, record=alice_record, email=bob.email, scopes=[Scope.READ_DOCUMENTS]
    )
    Delegation.objects.filter(pk=delegation.pk).update(invitation_expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(services.DelegationRefused, match="expired"):
        services.delegation_accept(user=bob, token=token)


def test_revocation_ends_access_at_once(alice, alice_record, bob):
    delegation = delegate(alice, alice_record, bob, [Scope.READ_DOCUMENTS])
    assert decide(actor=bob, record=alice_record, action=Action.DOCUMENT_READ).allowed
    services.delegation_revoke(actor=alice, delegation_uuid=delegation.uuid)
    assert not decide(actor=bob, record=alice_record, action=Action.DOCUMENT_READ).allowed
    assert alice_record not in records_for(actor=bob)


def test_caregiver_may_step_down_but_not_revoke_others(alice, alice_record, bob, charlie):
    mine = delegate(alice, alice_record, bob, [Scope.READ_DOCUMENTS])
    services.delegation_revoke(actor=bob, delegation_uuid=mine.uuid)
    other = delegate(alice, alice_record, charlie, [Scope.READ_DOCUMENTS])
    with pytest.raises(RecordUnavailable):
        services.delegation_revoke(actor=bob, delegation_uuid=other.uuid)


@pytest.mark.parametrize("scopes", [[], ["delete_everything"]])
def test_invitation_needs_known_scopes(alice, alice_record, bob, scopes):
    with pytest.raises(services.DelegationRefused):
        services.delegation_invite(actor=alice, record=alice_record, email=bob.email, scopes=scopes)


def test_parent_delegates_a_childs_record(alice, alice_child, bob):
    delegation, token = services.delegation_invite(
        actor=alice, record=alice_child, email=bob.email, scopes=[Scope.READ_PROFILE]
    )
    services.delegation_accept(user=bob, token=token)
    assert decide(actor=bob, record=alice_child, action=Action.PROFILE_READ).allowed
    assert delegation.record == alice_child


def test_invitation_email_leaves_through_the_outbox(alice, alice_record, bob):
    from apps.notifications.models import OutboxMessage

    services.delegation_invite(actor=alice, record=alice_record, email=bob.email, scopes=[Scope.READ_DOCUMENTS])
    message = OutboxMessage.objects.get(to=[bob.email])
    assert "/delegations/accept/" in message.body


def test_the_person_is_told_once_a_day_when_the_caregiver_uses_the_access(alice, alice_record, bob):
    from apps.access.policy import authorize

    delegate(alice, alice_record, bob, [Scope.READ_DOCUMENTS])
    authorize(actor=bob, record=alice_record, action=Action.DOCUMENT_LIST)
    authorize(actor=bob, record=alice_record, action=Action.DOCUMENT_READ)
    assert Notification.objects.filter(recipient=alice, event="caregiver_acted").count() == 1


def test_seeing_the_record_in_a_list_is_not_a_use(alice, alice_record, bob):
    delegate(alice, alice_record, bob, [Scope.READ_DOCUMENTS])
    assert alice_record in records_for(actor=bob)
    assert not Notification.objects.filter(recipient=alice, event="caregiver_acted").exists()


def test_a_refused_act_is_not_a_use(alice, alice_record, bob):
    from apps.access.policy import authorize

    delegate(alice, alice_record, bob, [Scope.READ_PROFILE])
    authorize(actor=bob, record=alice_record, action=Action.DOCUMENT_READ)
    assert not Notification.objects.filter(recipient=alice, event="caregiver_acted").exists()


def test_use_is_told_by_a_daily_email_unless_the_person_chooses_otherwise(alice, alice_record, bob):
    from apps.access.policy import authorize
    from apps.notifications.models import OutboxMessage
    from apps.notifications.services import daily_digest_send, preference_set

    delegate(alice, alice_record, bob, [Scope.READ_DOCUMENTS])
    before = OutboxMessage.objects.count()
    authorize(actor=bob, record=alice_record, action=Action.DOCUMENT_READ)
    assert OutboxMessage.objects.count() == before  # no e-mail at once by default
    assert daily_digest_send(user=alice) == 1

    preference_set(user=alice, event="caregiver_acted", in_app=False, email="off")
    from django.core.cache import cache

    cache.clear()
    Notification.objects.all().delete()
    authorize(actor=bob, record=alice_record, action=Action.DOCUMENT_READ)
    assert not Notification.objects.filter(recipient=alice, event="caregiver_acted").exists()
