"""On PostgreSQL the journal table becomes partitioned by month of ``occurred_at`` (nothing on SQLite).

A new table PARTITION BY RANGE (occurred_at) is created with the old one's columns, defaults,
CHECK constraints and identity column; one partition per UTC month from the oldest entry's
month to two months after the later of the newest entry and now, plus a DEFAULT partition so
that no append ever fails (apps/access/partitions.py creates the next months ahead of time).
The rows are copied as they are (same ids, content, hashes and MACs), the old table dropped and
the new one given its name, the id sequence continued where it was, the indexes recreated as
they were (also the partial ones of 0004/0005), the privileges granted again, and the
append-only trigger of 0002 declared on the partitioned table (cloned onto every partition).

PostgreSQL requires each unique constraint of a partitioned table to include the partition key,
so the primary key becomes (id, occurred_at) and the unique constraints on uuid, seq and (chain,
chain_seq) get occurred_at added, with their names kept. What they still guarantee: an id, seq
and uuid are drawn once (identity, sequence, uuid4) and a rewritten denial keeps its uuid AND
its occurred_at (journal._rewrite_lost), so a second copy of one entry is still refused; a
chain's appends are serialised by its head row's lock. Lookups by uuid, seq and chain use these
indexes (leading columns). Django's state is unchanged: the ORM only ever uses ``id``.

The whole journal is locked while it is copied (appends wait): on a large journal, run this in a
maintenance window. Reversible: backwards rebuilds a plain table the same way.
"""

from django.db import migrations

TABLE = "access_accessevent"
BUILDING = "access_accessevent_rebuilt"
DEFAULT_PARTITION = "access_accessevent_default"
PARTITION_KEY = "occurred_at"
TRIGGER = """
CREATE TRIGGER access_event_append_only
    BEFORE UPDATE OR DELETE ON access_accessevent
    FOR EACH ROW EXECUTE FUNCTION access_journal_refuse_change()
"""
MONTHS_AHEAD = 2


def _fetch(cursor, sql, params=None):
    cursor.execute(sql, params)
    return cursor.fetchall()


def _add_months(year, month, count):
    index = year * 12 + month - 1 + count
    return index // 12, index % 12 + 1


def _monthly_partitions(cursor):
    ((first, last),) = _fetch(
        cursor,
        f"SELECT date_trunc('month', MIN({PARTITION_KEY}) AT TIME ZONE 'UTC')::date, "  # noqa: S608 (constant names)
        f"date_trunc('month', GREATEST(MAX({PARTITION_KEY}), now()) AT TIME ZONE 'UTC')::date FROM {TABLE}",
    )
    year, month = (first or last).year, (first or last).month
    end = _add_months(last.year, last.month, MONTHS_AHEAD)
    while (year, month) <= end:
        following = _add_months(year, month, 1)
        cursor.execute(
            f'CREATE TABLE "{TABLE}_y{year:04d}m{month:02d}" PARTITION OF {BUILDING} '
            f"FOR VALUES FROM ('{year:04d}-{month:02d}-01 00:00:00+00') "
            f"TO ('{following[0]:04d}-{following[1]:02d}-01 00:00:00+00')"
        )
        year, month = following
    cursor.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {BUILDING} DEFAULT")


def _rebuild(schema_editor, *, partitioned):
    """Copy the journal into a new table (partitioned or plain) that takes its place."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        # What the old table had, read before it goes.
        keys = _fetch(
            cursor,
            "SELECT c.conname, c.contype, array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(num, pos) "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num ORDER BY k.pos) "
            "FROM pg_constraint c WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u') ORDER BY c.conname",
            [TABLE],
        )
        indexes = [
            # A partitioned table's index reads "ON ONLY table": the plain table's must not.
            definition.replace(" ON ONLY ", " ON ")
            for (definition,) in _fetch(
                cursor,
                "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s::regclass "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                "ORDER BY i.indexrelid",
                [TABLE],
            )
        ]
        grants = _fetch(
            cursor,
            "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END, a.privilege_type "
            "FROM pg_class t CROSS JOIN aclexplode(t.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee "
            "WHERE t.oid = %s::regclass AND a.grantee <> t.relowner",
            [TABLE],
        )
        ((sequence,),) = _fetch(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        ((last_value, is_called),) = _fetch(cursor, f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 (constant names)

        cursor.execute(
            f"CREATE TABLE {BUILDING} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)"
            + (f" PARTITION BY RANGE ({PARTITION_KEY})" if partitioned else "")
        )
        if partitioned:
            _monthly_partitions(cursor)
        cursor.execute(f"INSERT INTO {BUILDING} SELECT * FROM {TABLE}")  # noqa: S608 (constant names)
        cursor.execute(f"DROP TABLE {TABLE}")  # with its trigger, indexes and id sequence
        cursor.execute(f"ALTER TABLE {BUILDING} RENAME TO {TABLE}")
        ((new_sequence,),) = _fetch(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        cursor.execute(f"ALTER SEQUENCE {new_sequence} RENAME TO {sequence.split('.')[-1]}")
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)", [TABLE, last_value, is_called])

        for name, kind, columns in keys:
            columns = [c for c in columns if c != PARTITION_KEY]
            if partitioned:
                columns.append(PARTITION_KEY)
            listed = ", ".join(f'"{c}"' for c in columns)
            cursor.execute(
                f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {"PRIMARY KEY" if kind == "p" else "UNIQUE"} ({listed})'
            )
        for definition in indexes:
            cursor.execute(definition)
        for grantee, privilege in grants:
            cursor.execute(f"GRANT {privilege} ON {TABLE} TO {grantee}")
        cursor.execute(TRIGGER)


def partition(apps, schema_editor):
    _rebuild(schema_editor, partitioned=True)


def unpartition(apps, schema_editor):
    _rebuild(schema_editor, partitioned=False)


class Migration(migrations.Migration):
    dependencies = [("access", "0006_journal_chains_per_record")]

    operations = [migrations.RunPython(partition, unpartition)]
