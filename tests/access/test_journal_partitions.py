"""Monthly partitions of the access journal on PostgreSQL (migration 0007, apps/access/partitions.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone as django_timezone

from apps.access.journal import _copy, journal_append, journal_verify
from apps.access.models import AccessEvent
from apps.access.partitions import (
    DEFAULT_PARTITION,
    TABLE,
    add_months,
    ensure_month_partition,
    ensure_partitions,
    month_start,
    partition_name,
)

LONG_AGO = datetime(2001, 1, 15, 12, tzinfo=UTC)  # no partition: before the first entry


def _entry(record, actor, *, at: datetime | None = None) -> AccessEvent:
    return AccessEvent(
        actor_uuid=actor.uuid,
        actor_label=str(actor),
        actor_role=actor.role,
        record_uuid=record.uuid,
        action="document.read",
        resource_type="document",
        resource_uuid=uuid.uuid4(),
        resource_label="Bilan",
        basis="care_relationship",
        outcome="allowed",
        reason_code="care_relationship",
        occurred_at=at or django_timezone.now(),
    )


def _partition_of(event: AccessEvent) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {TABLE} WHERE id = %s", [event.pk])
        return cursor.fetchone()[0]


def _partitions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass", [TABLE])
        return {row[0] for row in cursor.fetchall()}


def _is_partitioned() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.partstrat, a.attname FROM pg_partitioned_table p "
            "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
            "WHERE p.partrelid = %s::regclass",
            [TABLE],
        )
        return cursor.fetchone() == ("r", "occurred_at")


# --- Months (both databases) ----------------------------------------------------------------------


def test_a_month_is_the_utc_month():
    paris_summer = timezone(timedelta(hours=2))
    assert month_start(datetime(2025, 3, 31, 23, 30, tzinfo=UTC)) == date(2025, 3, 1)
    assert month_start(datetime(2025, 4, 1, 1, 30, tzinfo=paris_summer)) == date(2025, 3, 1)


def test_months_are_added_across_years():
    assert add_months(date(2025, 11, 1), 3) == date(2026, 2, 1)
    assert partition_name(date(2026, 2, 1)) == "access_accessevent_y2026m02"


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the other databases")
def test_the_command_does_nothing_where_the_journal_is_not_partitioned(capsys):
    call_command("journal_partitions")
    assert "not partitioned here" in capsys.readouterr().out


# --- PostgreSQL ------------------------------------------------------------------------------------


def pg(test):
    """PostgreSQL-only database test."""
    test = pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the journal is partitioned on PostgreSQL only (migration 0007 does nothing on SQLite)",
    )(test)
    return pytest.mark.postgres(pytest.mark.django_db(test))


@pg
def test_after_migrate_the_journal_is_partitioned_by_month_with_a_default():
    assert _is_partitioned()
    assert DEFAULT_PARTITION in _partitions()
    assert partition_name(month_start(django_timezone.now())) in _partitions()


@pg
def test_an_entry_lands_in_its_months_partition(alice_record, dr_martin):
    ensure_partitions()
    (event,) = journal_append([_entry(alice_record, dr_martin)])

    assert _partition_of(event) == partition_name(month_start(event.occurred_at))


@pg
def test_an_entry_of_a_month_without_partition_lands_in_the_default_and_in_its_chain(alice_record, dr_martin):
    first, old, last = journal_append(
        [_entry(alice_record, dr_martin), _entry(alice_record, dr_martin, at=LONG_AGO), _entry(alice_record, dr_martin)]
    )

    assert _partition_of(old) == DEFAULT_PARTITION
    assert (old.chain_seq, old.prev_hash, last.prev_hash) == (2, first.hash, old.hash)
    assert journal_verify().intact


@pg
def test_the_maintenance_creates_the_coming_months():
    report = ensure_partitions(ahead=2, now=datetime(2031, 11, 20, tzinfo=UTC))

    wanted = ["access_accessevent_y2031m11", "access_accessevent_y2031m12", "access_accessevent_y2032m01"]
    assert report.created == wanted
    assert set(wanted) <= _partitions()


@pg
def test_the_maintenance_creates_nothing_the_second_time():
    ensure_partitions(now=datetime(2031, 11, 20, tzinfo=UTC))

    assert ensure_partitions(now=datetime(2031, 11, 20, tzinfo=UTC)).created == []


@pg
def test_the_maintenance_reports_entries_left_in_the_default(alice_record, dr_martin):
    journal_append([_entry(alice_record, dr_martin, at=LONG_AGO)])

    assert ensure_partitions().rows_in_default == 1


@pg
def test_a_months_partition_is_created_even_with_its_entries_in_the_default(alice_record, dr_martin):
    _before, old, _after = journal_append(
        [_entry(alice_record, dr_martin), _entry(alice_record, dr_martin, at=LONG_AGO), _entry(alice_record, dr_martin)]
    )

    assert ensure_month_partition(LONG_AGO.date())

    moved = AccessEvent.objects.get(pk=old.pk)
    assert _partition_of(moved) == "access_accessevent_y2001m01"
    assert (moved.uuid, moved.hash, moved.mac) == (old.uuid, old.hash, old.mac)
    assert AccessEvent.objects.count() == 3
    assert DEFAULT_PARTITION in _partitions()
    assert journal_verify().intact


@pg
def test_the_command_gives_the_months_in_the_default_their_partition(alice_record, dr_martin, capsys):
    journal_append([_entry(alice_record, dr_martin, at=LONG_AGO)])

    call_command("journal_partitions", "--from-default")

    assert "Created access_accessevent_y2001m01 (1 entries moved from the default partition)" in capsys.readouterr().out
    assert ensure_partitions().rows_in_default == 0


@pg
@pytest.mark.parametrize("where", ["current month", "default", "month created with a move", "default after a move"])
@pytest.mark.parametrize("statement", ["UPDATE {} SET outcome = 'denied'", "DELETE FROM {}"])
def test_a_partition_addressed_directly_refuses_changes(alice_record, dr_martin, where, statement):
    ensure_partitions()
    journal_append([_entry(alice_record, dr_martin, at=at) for at in (None, LONG_AGO, LONG_AGO + timedelta(days=400))])
    if "move" in where:  # the default was detached and attached again meanwhile
        ensure_month_partition(LONG_AGO.date())
    table = {
        "current month": partition_name(month_start(django_timezone.now())),
        "month created with a move": "access_accessevent_y2001m01",
    }.get(where, DEFAULT_PARTITION)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(table))
    assert AccessEvent.objects.count() == 3


@pg
def test_a_second_copy_of_an_entry_is_still_refused(alice_record, dr_martin):
    (event,) = journal_append([_entry(alice_record, dr_martin)])
    copy = _copy(event)
    for name in ("seq", "chain", "chain_seq", "prev_hash", "hash", "key_id", "mac"):
        setattr(copy, name, getattr(event, name))
    copy.seq = event.seq + 1000

    with pytest.raises(IntegrityError), transaction.atomic():
        AccessEvent.objects.bulk_create([copy])


@pg
def test_ids_continue_across_partitions(alice_record, dr_martin):
    events = journal_append([_entry(alice_record, dr_martin, at=at) for at in (None, LONG_AGO, None)])

    assert [e.pk for e in events] == sorted({e.pk for e in events})


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the migration only changes PostgreSQL")
def test_the_migration_carries_the_entries_both_ways(alice_record, dr_martin):
    events = journal_append(
        [_entry(alice_record, dr_martin, at=at) for at in (LONG_AGO, datetime(2024, 6, 1, tzinfo=UTC), None)]
    )
    try:
        call_command("migrate", "access", "0006", verbosity=0)
        assert not _is_partitioned()
        assert list(AccessEvent.objects.order_by("id").values_list("hash", flat=True)) == [e.hash for e in events]
    finally:
        call_command("migrate", "access", verbosity=0)

    assert _is_partitioned()
    assert {"access_accessevent_y2001m01", "access_accessevent_y2024m06"} <= _partitions()
    assert list(AccessEvent.objects.order_by("id").values_list("hash", flat=True)) == [e.hash for e in events]
    (later,) = journal_append([_entry(alice_record, dr_martin)])
    assert later.pk > events[-1].pk
    assert journal_verify().intact
