"""On PostgreSQL the database itself refuses to update or delete journal rows.

TRUNCATE is left to the table owner (the app's role should not own the table
in production); verify_journal notices a truncated chain through its tip.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION access_journal_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the access journal is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER access_event_append_only
    BEFORE UPDATE OR DELETE ON access_accessevent
    FOR EACH ROW EXECUTE FUNCTION access_journal_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS access_event_append_only ON access_accessevent;
DROP FUNCTION IF EXISTS access_journal_refuse_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
