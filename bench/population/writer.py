"""Bulk writing for seed_bench: COPY on PostgreSQL, bulk_create elsewhere, and the access
journal's hash chain computed in Python (the same bytes as AccessEvent.canonical)."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from django.core.management.color import no_style
from django.db import connections, models
from django.utils import timezone

from apps.access.journal_offline import GENESIS_HASH, HASHED_FIELDS

# COPY's text format: backslash, tab, newline and carriage return are escaped.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    if type(value) is str:
        # Most values need no escaping; str.translate with a table costs more than these checks.
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value).translate(_ESCAPES)
    return str(value)


def next_id(model: type[models.Model], using: str = "default") -> int:
    """The first free primary key: rows are given their ids so children can point at them
    without reading anything back (COPY returns nothing)."""
    top = model._default_manager.using(using).aggregate(top=models.Max("pk"))["top"]
    return (top or 0) + 1


def _fill_values(model: type[models.Model], columns: Sequence[str]) -> dict[str, Any]:
    """Values for the NOT NULL columns the caller does not give (defaults, auto_now): COPY
    sees no Django default. Nullable ones are left out so that a database default or
    trigger (e.g. a search vector) fills them."""
    now = timezone.now()
    fill: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.attname in columns or field.null or field.primary_key or getattr(field, "generated", False):
            continue
        if field.has_default():
            fill[field.attname] = field.get_default()
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            fill[field.attname] = now
        elif isinstance(field, models.CharField | models.TextField):
            fill[field.attname] = ""
        else:
            raise ValueError(f"{model.__name__}.{field.attname} is NOT NULL without a default: give it a value")
    return fill


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:  # a reverse relation has no column
        raise ValueError(f"{model.__name__}.{name} is not a column: COPY cannot fill it")
    return field.column


class _Table:
    def __init__(self, sink: BulkSink, model: type[models.Model], columns: Sequence[str]) -> None:
        self.sink = sink
        self.model = model
        self.columns = tuple(columns)
        self.fill = _fill_values(model, self.columns)
        all_columns = [*self.columns, *self.fill]
        names = ", ".join(sink.quote(_column(model, c)) for c in all_columns)
        self.sql = f"COPY {sink.quote(model._meta.db_table)} ({names}) FROM STDIN"
        self.suffix = "".join("\t" + _copy_text(v) for v in self.fill.values()) + "\n"
        self.rows: list = []
        self.count = 0

    def add(self, row: Sequence[Any]) -> None:
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= self.sink.batch_rows:
            self.flush()

    def add_line(self, line: str) -> None:
        """A row already in COPY text format, without the filled columns (PostgreSQL only)."""
        self.rows.append(line)
        self.count += 1
        if len(self.rows) >= self.sink.batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        if self.sink.copy:
            suffix = self.suffix
            if isinstance(rows[0], str):
                data = "".join(rows) if suffix == "\n" else "".join(line[:-1] + suffix for line in rows)
            else:
                data = "".join("\t".join(map(_copy_text, row)) + suffix for row in rows)
            self.sink.send(self.sql, data.encode())
        else:
            objects = [self.model(**dict(zip(self.columns, row, strict=True)), **self.fill) for row in rows]
            self.model._default_manager.using(self.sink.using).bulk_create(objects, batch_size=500)


class BulkSink:
    """Rows for several tables, written in batches.

    On PostgreSQL each batch is one COPY, run by a background thread on the same connection
    (inside the caller's transaction) so that generating rows in Python and ingesting them
    in PostgreSQL overlap on two cores. The caller must not use the connection between
    ``BulkSink()`` and ``close()``.
    """

    def __init__(self, *, using: str = "default", batch_rows: int = 20_000) -> None:
        self.using = using
        self.connection = connections[using]
        self.copy = self.connection.vendor == "postgresql"
        self.batch_rows = batch_rows if self.copy else 2_000
        self.tables: list[_Table] = []
        self._error: BaseException | None = None
        self.copy_seconds: dict[str, float] = {}
        if self.copy:
            self.connection.ensure_connection()
            self._raw = self.connection.connection
            self._queue: queue.Queue = queue.Queue(maxsize=3)
            self._thread = threading.Thread(target=self._run, name="seed-bench-copy", daemon=True)
            self._thread.start()

    def quote(self, name: str) -> str:
        return self.connection.ops.quote_name(name)

    def table(self, model: type[models.Model], columns: Sequence[str]) -> _Table:
        table = _Table(self, model, columns)
        self.tables.append(table)
        return table

    def send(self, sql: str, data: bytes) -> None:
        if self._error is not None:
            raise RuntimeError("a COPY failed") from self._error
        self._queue.put((sql, data))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue  # drain: the main thread raises on its next send or at close
            sql, data = item
            try:
                start = time.perf_counter()
                with self._raw.cursor() as cursor, cursor.copy(sql) as copy:
                    copy.write(data)
                table = sql.split()[1]
                self.copy_seconds[table] = self.copy_seconds.get(table, 0.0) + time.perf_counter() - start
            except BaseException as error:  # noqa: BLE001 - handed to the main thread
                self._error = error

    def close(self) -> None:
        for table in self.tables:
            table.flush()
        if self.copy:
            self._queue.put(None)
            self._thread.join()
            if self._error is not None:
                raise RuntimeError(f"a COPY failed: {self._error}") from self._error
            models_ = [t.model for t in self.tables]
            with self.connection.cursor() as cursor:
                for statement in self.connection.ops.sequence_reset_sql(no_style(), models_):
                    cursor.execute(statement)


@contextmanager
def indexes_deferred(model_list: Sequence[type[models.Model]], log: Callable[[str], None]) -> Iterator[None]:
    """On PostgreSQL, drop the secondary indexes and unique constraints of the big tables for the
    load and build them again after: one bulk build is several times faster than millions of
    random insertions (uuid indexes). All inside the caller's transaction: a failure restores them."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        yield
        return
    quote = connection.ops.quote_name
    saved = []
    with connection.cursor() as cursor:
        for model in model_list:
            table = model._meta.db_table
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'u'",
                [table],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                [table, table],
            )
            indexes = cursor.fetchall()
            for name, _definition in constraints:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {quote(name)}")
            saved.append((table, constraints, indexes))
    yield
    with timed(log, "indexes rebuilt"), connection.cursor() as cursor:
        # Django's foreign keys are deferred: their checks for the loaded rows must run before ALTER TABLE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for table, constraints, indexes in saved:
            for name, definition in constraints:
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
            for _name, definition in indexes:
                cursor.execute(definition)


# --- The journal's hash chains ------------------------------------------------------------

# The display number, the hashed content in its order, then the hash and its MAC.
JOURNAL_COLUMNS = ("seq", *HASHED_FIELDS, "hash", "key_id", "mac")

# AccessEvent.canonical(): json.dumps(sort_keys=True, separators=(",", ":")) of HASHED_FIELDS,
# None as "". Written out here because building a model instance per row would take minutes.
_CANONICAL = (
    '{"action":%s,"actor_label":%s,"actor_role":%s,"actor_uuid":"%s","basis":%s,"chain":"%s","chain_seq":%d,'
    '"ip":%s,"occurred_at":"%s","on_behalf_of_label":%s,"on_behalf_of_uuid":"%s","outcome":%s,"prev_hash":"%s",'
    '"purpose":%s,"reason_code":%s,"record_uuid":"%s","resource_label":%s,"resource_type":%s,'
    '"resource_uuid":"%s","user_agent":%s,"uuid":"%s"}'
)


class JournalChain:
    """Numbers and links events, one chain per record (each starting at its first entry), and
    authenticates each with the active journal key; ``seq`` continues the display order."""

    def __init__(self, *, seq: int, key_id: str, key: bytes) -> None:
        self.seq = seq
        self.heads: dict[str, tuple[int, str]] = {}
        self.key_id, self._key = key_id, key
        self._json: dict[str, str] = {}
        self._sha = hashlib.sha256

    def _j(self, text: str) -> str:
        encoded = self._json.get(text)
        if encoded is None:
            encoded = self._json[text] = json.dumps(text)
        return encoded

    def row(
        self,
        uuid: str,
        occurred_at: str,
        actor: Any,
        record_uuid: str,
        action: str,
        resource_type: str,
        resource_uuid: str | None,
        resource_label: str,
        ip: str,
        user_agent: str,
        *,
        as_line: bool,
    ) -> Any:
        """One journal row, as a tuple of JOURNAL_COLUMNS or (``as_line``) a COPY text line.

        ``actor`` has uuid, label, role, basis, reason, purpose, on_behalf_of_uuid/label; basis
        "none" means refused. ``occurred_at`` is datetime.isoformat(timespec="microseconds") in UTC.
        Labels come from fixed lists without tabs or newlines, so the line needs no escaping."""
        self.seq += 1
        chain = str(record_uuid)
        chain_seq, prev = self.heads.get(chain, (0, GENESIS_HASH))
        chain_seq += 1
        j = self._j
        outcome = "denied" if actor.basis == "none" else "allowed"
        obo = actor.on_behalf_of_uuid or None
        resource_uuid = resource_uuid or None
        canonical = _CANONICAL % (
            j(action),
            j(actor.label),
            j(actor.role),
            actor.uuid,
            j(actor.basis),
            chain,
            chain_seq,
            j(ip),
            occurred_at,
            j(actor.on_behalf_of_label),
            obo or "",
            j(outcome),
            prev,
            j(actor.purpose),
            j(actor.reason),
            record_uuid,
            j(resource_label),
            j(resource_type),
            resource_uuid or "",
            j(user_agent),
            uuid,
        )
        digest = self._sha(canonical.encode()).hexdigest()
        self.heads[chain] = (chain_seq, digest)
        mac = hmac.new(self._key, digest.encode("ascii"), hashlib.sha256).hexdigest()
        row = (
            self.seq,
            chain,
            chain_seq,
            uuid,
            occurred_at,
            actor.uuid,
            actor.label,
            actor.role,
            obo,
            actor.on_behalf_of_label,
            record_uuid,
            action,
            resource_type,
            resource_uuid,
            resource_label,
            actor.basis,
            actor.purpose,
            outcome,
            actor.reason,
            ip,
            user_agent,
            prev,
            digest,
            self.key_id,
            mac,
        )
        # COPY's text format writes NULL as \N (only the two optional uuids can be None).
        return _LINE % tuple("\\N" if value is None else value for value in row) if as_line else row


_LINE = "\t".join(["%d", "%s", "%d"] + ["%s"] * (len(JOURNAL_COLUMNS) - 3)) + "\n"


@contextmanager
def timed(log: Callable[[str], None], label: str) -> Iterator[None]:
    """Print how long a phase took."""
    start = time.perf_counter()
    yield
    log(f"{label}: {time.perf_counter() - start:.1f} s")
