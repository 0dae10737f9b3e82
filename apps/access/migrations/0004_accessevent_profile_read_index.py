# An index for "new since your last visit" (the summary's previous read of a record by the same
# person). The journal is append-only: this only adds an index, built without blocking appends.

from django.db import migrations, models
from healthspace.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("access", "0003_accesscode_emergencyaccess_accesscodeuse_and_more"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="accessevent",
            index=models.Index(
                condition=models.Q(("action", "profile.read"), ("outcome", "allowed")),
                fields=["record_uuid", "actor_uuid", "-seq"],
                name="accessevent_profile_read_idx",
            ),
        ),
    ]
