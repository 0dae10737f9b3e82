"""A stored full-text vector on documents, kept by PostgreSQL itself.

Search used to compute the French vector of every document of the record on every query
(twice per page: the page and the category counts), seconds for a record with thousands of
documents. The column is filled by a trigger on the source columns, so every writer (the
import, edits, the bench seeder's bulk inserts, raw SQL) keeps it right, and served by a GIN
index. The expression is the one search computed before (same weights, same 'french'
configuration, same concatenation), so results do not change.

On SQLite the column exists and stays NULL: search there is a plain icontains.
"""

import django.contrib.postgres.search
from django.db import migrations

SOURCE_COLUMNS = "title, extracted_text, type_display, author_name, organisation"

VECTOR = """
    setweight(to_tsvector('french'::regconfig, COALESCE({row}title, '')), 'A')
    || setweight(to_tsvector('french'::regconfig,
        COALESCE({row}extracted_text, '') || ' ' || COALESCE({row}type_display, '') || ' '
        || COALESCE({row}author_name, '') || ' ' || COALESCE({row}organisation, '')), 'B')
"""

CREATE = f"""
CREATE OR REPLACE FUNCTION records_document_search_vector() RETURNS trigger AS $$
BEGIN
    NEW.search_vector := {VECTOR.format(row="NEW.")};
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER records_document_search_vector
    BEFORE INSERT OR UPDATE OF {SOURCE_COLUMNS} ON records_document
    FOR EACH ROW EXECUTE FUNCTION records_document_search_vector();
-- The backfill and the index may outlast the web's statement_timeout on a large table.
SET LOCAL statement_timeout = 0;
UPDATE records_document SET search_vector = {VECTOR.format(row="")};
CREATE INDEX records_document_search_gin ON records_document USING gin (search_vector);
"""

DROP = """
DROP INDEX IF EXISTS records_document_search_gin;
DROP TRIGGER IF EXISTS records_document_search_vector ON records_document;
DROP FUNCTION IF EXISTS records_document_search_vector();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0005_dependents"),
    ]

    operations = [
        migrations.AddField(
            model_name="document",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(forwards, backwards),
    ]
