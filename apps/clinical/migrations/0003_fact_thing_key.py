# The summary's "thing" of each fact, stored (backfilled in batches) and indexed with the record,
# kind and date, so the latest line and trend points per thing are computed in the database.

from django.db import migrations, models, transaction
from django.db.models import Max, Min, Value
from django.db.models.functions import Concat, Length

import apps.clinical.models
from apps.clinical.models import THING_KEY_LENGTH, thing_key_for  # pure functions of the row: fine here
from healthspace.migration_operations import AddIndexConcurrentlyOnPostgres

BATCH = 5000


def backfill_thing_keys(apps, schema_editor):
    """Existing facts get their key, one short transaction per range of ids: coded facts (most of
    them) in one UPDATE per range, facts known by their words (folded in Python) in bulk."""
    ClinicalFact = apps.get_model("clinical", "ClinicalFact")
    bounds = ClinicalFact.objects.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return
    for start in range(bounds["low"], bounds["high"] + 1, BATCH):
        facts = ClinicalFact.objects.filter(pk__gte=start, pk__lt=start + BATCH)
        with transaction.atomic(using=schema_editor.connection.alias):
            facts.exclude(code="").alias(length=Length("code_system") + Length("code")).filter(
                length__lt=THING_KEY_LENGTH
            ).update(thing_key=Concat("code_system", Value("|"), "code"))
            rest = [
                ClinicalFact(pk=pk, thing_key=thing_key_for(code_system, code, display))
                for pk, code_system, code, display in facts.filter(thing_key="").values_list(
                    "pk", "code_system", "code", "display"
                )
            ]
            ClinicalFact.objects.bulk_update(rest, ["thing_key"], batch_size=500)


class Migration(migrations.Migration):
    atomic = False  # the backfill commits per batch; the index is built concurrently on PostgreSQL

    dependencies = [
        ("clinical", "0002_declared_facts_and_rectifications"),
    ]

    operations = [
        migrations.AddField(
            model_name="clinicalfact",
            name="thing_key",
            field=apps.clinical.models.ThingKeyField(blank=True, editable=False, max_length=255),
        ),
        migrations.RunPython(backfill_thing_keys, migrations.RunPython.noop, elidable=True),
        AddIndexConcurrentlyOnPostgres(
            model_name="clinicalfact",
            index=models.Index(
                fields=["record", "kind", "thing_key", "-effective_date"], name="clinicalfact_thing_date_idx"
            ),
        ),
    ]
