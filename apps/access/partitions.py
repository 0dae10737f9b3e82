"""Monthly partitions of the access journal (PostgreSQL only; nothing to do on SQLite).

Since migration 0007 the journal table is partitioned by range of ``occurred_at``, one
partition per calendar month in UTC (``access_accessevent_y2025m03``), plus a DEFAULT partition
(``access_accessevent_default``) so that no append ever fails for want of a partition. The
append-only trigger is declared on the partitioned table: PostgreSQL clones it onto every
partition, also the ones created later, so a partition refuses UPDATE and DELETE even when
addressed directly.

``ensure_partitions`` (the ``journal_partitions`` command and a daily Celery beat task) creates
the partitions of the current month and the next ones ahead of time; it is idempotent. It moves
nothing, except in one case: PostgreSQL refuses to create a partition whose range already has
rows in the DEFAULT partition (entries stamped in a month that had no partition: a clock far
off, entries imported from the past). Then, in one transaction and under the table's lock
(appends wait a moment), the default partition is detached, the month's partition created, that
month's rows moved from the default into it (same content and ids: hashes, MACs and chain links
are unchanged) and the default attached again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.db import connection, transaction
from django.utils import timezone

from apps.access.models import AccessEvent

logger = logging.getLogger(__name__)

TABLE = AccessEvent._meta.db_table
DEFAULT_PARTITION = f"{TABLE}_default"
# Months created ahead of the current one: a missed beat run or two changes nothing.
MONTHS_AHEAD = 3
# Serialises two maintenance runs (beat and command) on the same database.
_LOCK_KEY = 0x4A6F75726E616C  # "Journal"


@dataclass
class PartitionReport:
    partitioned: bool
    created: list[str] = field(default_factory=list)
    moved: dict[str, int] = field(default_factory=dict)  # partition -> rows moved out of the default
    rows_in_default: int = 0


def month_start(moment: datetime | date) -> date:
    """The first day of the UTC month of ``moment``."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def _bound(month: date) -> str:
    # An instant in UTC: the session's time zone does not move the boundary.
    return f"{month.isoformat()} 00:00:00+00"


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s))", [TABLE])
        return bool(cursor.fetchone()[0])


def ensure_partitions(*, ahead: int = MONTHS_AHEAD, now: datetime | None = None) -> PartitionReport:
    """Create the partitions of the current month and the ``ahead`` next ones (those missing)."""
    if not is_partitioned():
        return PartitionReport(partitioned=False)
    report = PartitionReport(partitioned=True)
    first = month_start(now or timezone.now())
    for offset in range(ahead + 1):
        ensure_month_partition(add_months(first, offset), report=report)
    report.rows_in_default = rows_in_default()
    if report.rows_in_default:
        logger.warning(
            "%d access journal entries are in the default partition (months without a partition): "
            "run `journal_partitions --from-default` to give their months partitions",
            report.rows_in_default,
        )
    return report


def rows_in_default() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{DEFAULT_PARTITION}"')  # noqa: S608 (constant names)
        return int(cursor.fetchone()[0])


def months_in_default() -> list[date]:
    """The months that have entries in the default partition (to create their partitions)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date "  # noqa: S608 (constant names)
            f'FROM "{DEFAULT_PARTITION}" ORDER BY 1'
        )
        return [row[0] for row in cursor.fetchall()]


def ensure_month_partition(month: date, *, report: PartitionReport | None = None) -> bool:
    """Create the partition of ``month`` if missing (moving that month's rows out of the default
    partition if there are any); True if it was created."""
    report = report if report is not None else PartitionReport(partitioned=True)
    month = month_start(month)
    name = partition_name(month)
    low, high = _bound(month), _bound(add_months(month, 1))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            return False
        in_range = "occurred_at >= %s AND occurred_at < %s"
        cursor.execute(f'SELECT count(*) FROM "{DEFAULT_PARTITION}" WHERE {in_range}', [low, high])  # noqa: S608 (constant names)
        stranded = int(cursor.fetchone()[0])
        partition_of = f"CREATE TABLE \"{name}\" PARTITION OF \"{TABLE}\" FOR VALUES FROM ('{low}') TO ('{high}')"
        if not stranded:
            cursor.execute(partition_of)
        else:
            # The default partition may not hold rows of the new range while the partition is
            # created. Detached, it is a plain table (PostgreSQL drops its clone of the
            # append-only trigger, and clones it again when it is attached back).
            columns = ", ".join(f'"{f.column}"' for f in AccessEvent._meta.concrete_fields)
            cursor.execute(f'ALTER TABLE "{TABLE}" DETACH PARTITION "{DEFAULT_PARTITION}"')
            cursor.execute(partition_of)
            cursor.execute(
                f'INSERT INTO "{name}" ({columns}) SELECT {columns} FROM "{DEFAULT_PARTITION}" WHERE {in_range}',  # noqa: S608 (constant names)
                [low, high],
            )
            cursor.execute(f'DELETE FROM "{DEFAULT_PARTITION}" WHERE {in_range}', [low, high])  # noqa: S608 (constant names)
            cursor.execute(f'ALTER TABLE "{TABLE}" ATTACH PARTITION "{DEFAULT_PARTITION}" DEFAULT')
            report.moved[name] = stranded
            logger.warning("moved %d access journal entries from the default partition into %s", stranded, name)
    report.created.append(name)
    return True
