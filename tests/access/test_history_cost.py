"""The access history stays bounded by its page over a long journal: keyset paging on seq, the
same queries for 10 and 200 entries, first-access badges without reading the actor's whole
history, date filters an index can serve."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.access.history.services import HistoryFilters, history_for
from apps.access.journal import journal_append
from apps.access.models import AccessEvent
from apps.access.policy import Action
from tests.factories import ProfessionalFactory


def _entry(record, actor, *, at: datetime | None = None, **fields) -> AccessEvent:
    values = {
        "actor_uuid": actor.uuid,
        "actor_label": str(actor),
        "actor_role": actor.role,
        "record_uuid": record.uuid,
        "action": Action.DOCUMENT_READ,
        "resource_type": "document",
        "resource_uuid": uuid.uuid4(),
        "resource_label": "Bilan",
        "basis": "care_relationship",
        "outcome": "allowed",
        "reason_code": "care_relationship",
        "occurred_at": at or timezone.now(),
    }
    values.update(fields)
    return AccessEvent(**values)


def _seqs(page) -> list[int]:
    return [entry.event.seq for entry in page.entries]


def test_first_access_on_an_older_page_is_badged_there_and_not_on_the_newer_one(alice, alice_record, dr_martin):
    first, second = journal_append([_entry(alice_record, dr_martin), _entry(alice_record, dr_martin)])
    newest = history_for(actor=alice, record=alice_record, limit=2)  # the journal read, then `second`
    older = history_for(actor=alice, record=alice_record, before=newest.next_before, limit=2)

    assert [(e.event.seq, e.first_access) for e in newest.entries][-1] == (second.seq, False)
    assert [(e.event.seq, e.first_access) for e in older.entries] == [(first.seq, True)]


def test_finding_a_record_before_opening_it_does_not_take_the_first_access_badge(alice, alice_record, dr_martin):
    find, opened = journal_append(
        [_entry(alice_record, dr_martin, action="record.find"), _entry(alice_record, dr_martin)]
    )

    page = history_for(actor=alice, record=alice_record)

    badges = {entry.event.seq: entry.first_access for entry in page.entries}
    assert (badges[find.seq], badges[opened.seq]) == (False, True)


def test_a_refused_attempt_before_does_not_take_the_first_access_badge(alice, alice_record, dr_martin):
    refused, opened = journal_append(
        [_entry(alice_record, dr_martin, outcome="denied", basis="none"), _entry(alice_record, dr_martin)]
    )

    badges = {e.event.seq: e.first_access for e in history_for(actor=alice, record=alice_record).entries}

    assert (badges[refused.seq], badges[opened.seq]) == (False, True)


def _history_queries(alice, record, filters: HistoryFilters) -> int:
    with CaptureQueriesContext(connection) as ctx:
        history_for(actor=alice, record=record, filters=filters)
    return len([q for q in ctx.captured_queries if not q["sql"].startswith('INSERT INTO "access_accessevent"')])


@pytest.mark.parametrize(
    "filters",
    [
        HistoryFilters(),
        HistoryFilters(actor_kind="professional"),
        HistoryFilters(action_group="opened"),
        HistoryFilters(outcome="allowed"),
        HistoryFilters(date_from=date(2020, 1, 1), date_to=date(2030, 1, 1)),
    ],
    ids=["none", "professionals", "opened", "allowed", "dates"],
)
def test_history_runs_the_same_queries_for_10_and_200_entries(alice, alice_record, filters):
    professionals = [ProfessionalFactory() for _ in range(5)]
    journal_append([_entry(alice_record, professionals[n % 5]) for n in range(10)])
    few = _history_queries(alice, alice_record, filters)
    journal_append([_entry(alice_record, professionals[n % 5]) for n in range(190)])

    assert _history_queries(alice, alice_record, filters) == few


def test_date_filters_keep_whole_local_days(alice, alice_record, dr_martin):
    paris_midnight = timezone.make_aware(datetime(2025, 3, 30))  # the night clocks change
    _before, first, last, _after = journal_append(
        [
            _entry(alice_record, dr_martin, at=paris_midnight - timedelta(seconds=1)),
            _entry(alice_record, dr_martin, at=paris_midnight),
            _entry(alice_record, dr_martin, at=paris_midnight + timedelta(hours=23, minutes=59)),
            _entry(alice_record, dr_martin, at=paris_midnight + timedelta(days=1)),
        ]
    )

    page = history_for(
        actor=alice, record=alice_record, filters=HistoryFilters(date_from=date(2025, 3, 30), date_to=date(2025, 3, 30))
    )

    assert _seqs(page) == [last.seq, first.seq]


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plan")
def test_date_filters_compare_the_stored_instant_not_a_converted_date(alice, alice_record):
    with CaptureQueriesContext(connection) as ctx:
        history_for(actor=alice, record=alice_record, filters=HistoryFilters(date_from=date(2025, 1, 1)))
    page_query = next(q["sql"] for q in ctx.captured_queries if 'ORDER BY "access_accessevent"."seq" DESC' in q["sql"])

    assert "AT TIME ZONE" not in page_query
    assert '"access_accessevent"."occurred_at" >=' in page_query
