"""Breach 16: a denial decided inside a transaction that rolls back must stay in the journal.

These tests run with real transactions (``transaction=True``): the rollback is what is tested.
"""

from __future__ import annotations

import pytest
from celery.signals import task_postrun, task_prerun
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from apps.access.journal import denials_kept, journal_verify
from apps.access.models import AccessEvent, CareRelationship
from apps.access.policy import Action, authorize
from apps.records.models import Document
from tests.conftest import logged_in_client
from tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


def _decide_then_fail(actor, record, action) -> None:
    """A service that authorizes inside its transaction, then fails: everything it wrote rolls back."""
    with transaction.atomic():
        authorize(actor=actor, record=record, action=action)
        raise Boom


@pytest.fixture
def caring_doctor(alice_record, dr_martin):
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    return dr_martin


def _refused_edits(professional, document):
    return AccessEvent.objects.filter(
        actor_uuid=professional.uuid,
        resource_uuid=document.uuid,
        action=Action.DOCUMENT_EDIT,
        outcome="denied",
        reason_code="professional_read_only",
    )


def _chain_is_intact() -> bool:
    report = journal_verify()
    call_command("verify_journal")  # the operator's command agrees (it exits non-zero otherwise)
    return report.intact


def test_professional_renaming_a_document_on_the_web_is_refused_and_journaled(alice_record, caring_doctor):
    document = DocumentFactory(record=alice_record, title="Bilan")

    response = logged_in_client(caring_doctor).post(
        reverse("document_edit", args=[document.uuid]), {"title": "Renamed", "category": "report"}
    )

    assert response.status_code == 404
    assert Document.objects.get(pk=document.pk).title == "Bilan"
    assert _refused_edits(caring_doctor, document).count() == 1
    assert _chain_is_intact()


def test_professional_renaming_a_document_through_the_api_is_refused_and_journaled(alice_record, caring_doctor):
    document = DocumentFactory(record=alice_record, title="Bilan")

    response = logged_in_client(caring_doctor).patch(
        reverse("api_document", args=[document.uuid]), {"title": "Renamed"}, content_type="application/json"
    )

    assert response.status_code == 404
    assert Document.objects.get(pk=document.pk).title == "Bilan"
    assert _refused_edits(caring_doctor, document).count() == 1
    assert _chain_is_intact()


def test_denial_inside_a_rolled_back_block_is_rewritten_once(charlie, alice_record):
    with denials_kept(), pytest.raises(Boom):
        _decide_then_fail(charlie, alice_record, Action.RECORD_EDIT)

    denials = AccessEvent.objects.filter(actor_uuid=charlie.uuid, action=Action.RECORD_EDIT, outcome="denied")
    assert denials.count() == 1
    assert _chain_is_intact()


def test_denial_in_a_rolled_back_savepoint_of_a_committed_transaction_is_kept(alice, charlie, alice_record):
    with denials_kept(), transaction.atomic():
        authorize(actor=alice, record=alice_record, action=Action.RECORD_VIEW)
        with pytest.raises(Boom):
            _decide_then_fail(charlie, alice_record, Action.RECORD_EDIT)

    assert AccessEvent.objects.filter(actor_uuid=charlie.uuid, outcome="denied").count() == 1
    assert AccessEvent.objects.filter(actor_uuid=alice.uuid, outcome="allowed").count() == 1
    assert _chain_is_intact()


def test_committed_denial_is_not_written_twice(charlie, alice_record):
    with denials_kept(), transaction.atomic():
        authorize(actor=charlie, record=alice_record, action=Action.RECORD_EDIT)

    assert AccessEvent.objects.filter(actor_uuid=charlie.uuid, outcome="denied").count() == 1
    assert _chain_is_intact()


def test_allowed_act_rolled_back_leaves_no_entry(alice, alice_record):
    with denials_kept(), pytest.raises(Boom):
        _decide_then_fail(alice, alice_record, Action.RECORD_EDIT)

    assert not AccessEvent.objects.filter(actor_uuid=alice.uuid, action=Action.RECORD_EDIT).exists()


def test_denial_in_a_failed_celery_task_is_kept(charlie, alice_record):
    task_prerun.send(sender=None, task_id="task-1", task=None)
    with pytest.raises(Boom):
        _decide_then_fail(charlie, alice_record, Action.DOCUMENT_READ)
    task_postrun.send(sender=None, task_id="task-1", task=None, state="FAILURE")

    assert AccessEvent.objects.filter(actor_uuid=charlie.uuid, outcome="denied").count() == 1
    assert _chain_is_intact()
