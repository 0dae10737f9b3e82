"""The access journal: append-only, hash-chained, verifiable."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from apps.access.journal import RequestOrigin, current_origin, journal_verify
from apps.access.models import AccessEvent, JournalIsAppendOnly
from apps.access.policy import Action, authorize


@pytest.fixture
def three_events(alice, alice_record, charlie):
    authorize(actor=alice, record=alice_record, action=Action.RECORD_VIEW)
    authorize(actor=charlie, record=alice_record, action=Action.RECORD_VIEW)
    authorize(actor=alice, record=alice_record, action=Action.DOCUMENT_LIST)
    return list(AccessEvent.objects.order_by("seq"))


def _raw_update(sql: str, params: list) -> None:
    """Change the table behind the app's back, as an intruder with database rights would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE access_accessevent DISABLE TRIGGER access_event_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE access_accessevent ENABLE TRIGGER access_event_append_only")


def test_entries_are_chained_to_the_previous_one(three_events):
    first, second, third = three_events
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3


def test_denied_attempt_is_recorded_with_who_and_why(three_events, charlie, alice_record):
    denial = three_events[1]
    assert (denial.actor_uuid, denial.record_uuid, denial.outcome) == (charlie.uuid, alice_record.uuid, "denied")
    assert denial.reason_code == "not_allowed"
    assert denial.actor_label == str(charlie)


def test_entry_records_where_the_request_came_from(alice, alice_record):
    token = current_origin.set(RequestOrigin(ip="203.0.113.7", user_agent="Firefox"))
    try:
        authorize(actor=alice, record=alice_record, action=Action.RECORD_VIEW)
    finally:
        current_origin.reset(token)
    event = AccessEvent.objects.order_by("-seq").first()
    assert (event.ip, event.user_agent) == ("203.0.113.7", "Firefox")


def test_app_refuses_to_update_an_entry(three_events):
    event = three_events[0]
    event.outcome = "allowed"
    with pytest.raises(JournalIsAppendOnly):
        event.save()


def test_app_refuses_to_delete_an_entry(three_events):
    with pytest.raises(JournalIsAppendOnly):
        three_events[0].delete()


def test_app_refuses_bulk_update_and_delete(three_events):
    with pytest.raises(JournalIsAppendOnly):
        AccessEvent.objects.filter(pk=three_events[0].pk).update(outcome="allowed")
    with pytest.raises(JournalIsAppendOnly):
        AccessEvent.objects.all().delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database trigger exists on PostgreSQL only")
@pytest.mark.parametrize(
    "statement", ["UPDATE access_accessevent SET outcome = 'allowed'", "DELETE FROM access_accessevent"]
)
def test_postgresql_itself_refuses_to_change_the_journal(three_events, statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AccessEvent.objects.count() == 3


def test_verify_journal_accepts_an_intact_chain(three_events, capsys):
    call_command("verify_journal")
    assert "intact: 3 entries verified" in capsys.readouterr().out


def test_verify_journal_names_the_first_altered_row(three_events):
    altered = three_events[1]
    _raw_update("UPDATE access_accessevent SET outcome = 'allowed' WHERE id = %s", [altered.pk])
    with pytest.raises(CommandError, match=rf"record {altered.chain}: entry #{altered.chain_seq} altered"):
        call_command("verify_journal")


def test_verify_journal_detects_a_deleted_row(three_events):
    _raw_update("DELETE FROM access_accessevent WHERE id = %s", [three_events[1].pk])
    report = journal_verify()
    assert not report.intact
    assert f"entry #{three_events[1].chain_seq} is missing" in report.problem


def test_verify_journal_detects_a_removed_tail_against_the_head_row(three_events):
    _raw_update("DELETE FROM access_accessevent WHERE id = %s", [three_events[2].pk])
    report = journal_verify()
    assert not report.intact
    assert "head row says #3 but the chain ends at #2" in report.problem


def test_verify_journal_command_exits_non_zero_on_a_broken_chain(three_events):
    _raw_update("UPDATE access_accessevent SET actor_label = 'someone else' WHERE id = %s", [three_events[0].pk])
    with pytest.raises(CommandError) as error:
        call_command("verify_journal")
    assert error.value.returncode == 1


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.4", "127.0.0.1"),  # nobody is trusted: the header is ignored
        (1, "198.51.100.4", "198.51.100.4"),  # one proxy adds the client's address
        (1, "203.0.113.66, 198.51.100.4", "198.51.100.4"),  # what the client itself wrote is skipped
        (2, "198.51.100.4", "127.0.0.1"),  # the request bypassed a proxy: the connection's address
    ],
)
def test_journal_address_goes_through_trusted_proxies_only(
    client, alice, alice_record, settings, proxies, forwarded, expected
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = proxies
    client.force_login(alice)
    client.get(f"/records/{alice_record.uuid}/", HTTP_X_FORWARDED_FOR=forwarded)
    event = AccessEvent.objects.filter(actor_uuid=alice.uuid, action="record.view").latest("seq")
    assert event.ip == expected
