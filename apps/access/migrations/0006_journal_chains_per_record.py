"""One hash chain per record, entries authenticated with a journal key, signed checkpoints.

Existing entries (one deployment-wide chain) are re-chained ONCE, in their order: each goes to
its record's chain (or the "deployment" chain) with its number there, a new per-chain SHA-256
link and an HMAC with the active journal key (settings.JOURNAL_KEYS). Their content is kept;
the old global hashes are replaced. Run ``verify_journal`` before this migration and keep its
output: that is the proof the old chain was intact when it was re-chained. On PostgreSQL the
append-only trigger is switched off for the rewrite and on again in the same transaction.
"""

import hashlib
import hmac
import uuid
from datetime import UTC

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from apps.access.journal_offline import GENESIS_HASH, HASHED_FIELDS, entry_hash

TRIGGER = "access_event_append_only"
DISPLAY_SEQUENCE = "access_accessevent_display_seq"


def _values(event) -> dict:
    values = {}
    for name in HASHED_FIELDS:
        value = getattr(event, name)
        if name == "occurred_at":
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        elif isinstance(value, uuid.UUID):
            value = str(value)
        values[name] = "" if value is None else value
    return values


def rechain(apps, schema_editor):
    AccessEvent = apps.get_model("access", "AccessEvent")
    JournalChainHead = apps.get_model("access", "JournalChainHead")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(f"ALTER TABLE access_accessevent DISABLE TRIGGER {TRIGGER}")
    key_id = next(iter(settings.JOURNAL_KEYS))
    key = settings.JOURNAL_KEYS[key_id]
    heads: dict[str, tuple[int, str]] = {}
    batch = []
    for event in AccessEvent.objects.order_by("seq").iterator(chunk_size=2000):
        event.chain = str(event.record_uuid) if event.record_uuid else "deployment"
        seq, prev = heads.get(event.chain, (0, GENESIS_HASH))
        event.chain_seq, event.prev_hash = seq + 1, prev
        event.hash = entry_hash(_values(event))
        event.key_id = key_id
        event.mac = hmac.new(key, event.hash.encode("ascii"), hashlib.sha256).hexdigest()
        heads[event.chain] = (event.chain_seq, event.hash)
        batch.append(event)
        if len(batch) >= 2000:
            AccessEvent.objects.bulk_update(batch, ["chain", "chain_seq", "prev_hash", "hash", "key_id", "mac"])
            batch = []
    AccessEvent.objects.bulk_update(batch, ["chain", "chain_seq", "prev_hash", "hash", "key_id", "mac"])
    JournalChainHead.objects.bulk_create(
        [JournalChainHead(chain=chain, seq=seq, last_hash=last) for chain, (seq, last) in heads.items()],
        batch_size=2000,
    )
    if postgres:
        schema_editor.execute(f"ALTER TABLE access_accessevent ENABLE TRIGGER {TRIGGER}")


def display_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {DISPLAY_SEQUENCE}")
        schema_editor.execute(
            "SELECT setval('access_accessevent_display_seq', GREATEST(COALESCE(MAX(seq), 0), 1), "
            "MAX(seq) IS NOT NULL) "
            "FROM access_accessevent"
        )


def drop_display_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {DISPLAY_SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("access", "0005_accessevent_history_indexes")]

    operations = [
        migrations.CreateModel(
            name="JournalChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("chain", models.CharField(max_length=40, unique=True)),
                ("seq", models.PositiveBigIntegerField(default=0)),
                ("last_hash", models.CharField(default="0" * 64, max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name="JournalCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, unique=True)),
                ("created_at", models.DateTimeField(db_index=True)),
                ("root", models.CharField(max_length=64)),
                ("chains", models.PositiveBigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="JournalVerification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("checked_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("full", models.BooleanField(default=False)),
                ("intact", models.BooleanField()),
                ("verified", models.PositiveBigIntegerField(default=0)),
                ("checkpoint_name", models.CharField(blank=True, max_length=200)),
                ("checkpoint_at", models.DateTimeField(blank=True, null=True)),
                ("problems", models.JSONField(default=list)),
            ],
            options={"ordering": ["-checked_at"]},
        ),
        migrations.AddField(
            model_name="accessevent",
            name="chain",
            field=models.CharField(default="", max_length=40),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accessevent",
            name="chain_seq",
            field=models.PositiveBigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accessevent",
            name="key_id",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accessevent",
            name="mac",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(rechain, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="accessevent",
            constraint=models.UniqueConstraint(fields=("chain", "chain_seq"), name="accessevent_chain_seq_unique"),
        ),
        migrations.DeleteModel(name="JournalHead"),
        migrations.RunPython(display_sequence, drop_display_sequence),
    ]
