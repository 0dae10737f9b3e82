# Indexes for the access history over millions of journal rows: "was this person here before?"
# and "refused only". The journal is append-only: this only adds indexes, built without
# blocking appends.

from django.db import migrations, models

from healthspace.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("access", "0004_accessevent_profile_read_index"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="accessevent",
            index=models.Index(fields=["record_uuid", "actor_uuid", "seq"], name="accessevent_record_actor_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="accessevent",
            index=models.Index(
                condition=models.Q(("outcome", "denied")), fields=["record_uuid", "-seq"], name="accessevent_denied_idx"
            ),
        ),
    ]
