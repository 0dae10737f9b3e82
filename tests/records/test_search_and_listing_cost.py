"""Full-text search over a stored, trigger-maintained vector, and listings whose cost does not grow
with the record (the documents API loaded the record once per document)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from apps.records.models import Document
from apps.records.timeline import TimelineFilters, _ordered, _search, documents_timeline
from tests.factories import DocumentFactory

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the vector and its trigger exist on PostgreSQL only"
)

TEXTS = [
    ("Bilan sanguin", "Glycémie à jeun élevée, hémoglobine glyquée à 7,2 %. Analyses à refaire."),
    ("Compte rendu de cardiologie", "Douleurs thoraciques irradiant au bras gauche ; électrocardiogramme normal."),
    ("Ordonnance", "Amlodipine 5 mg. Hypertension artérielle traitée. Pas de migraine."),
    ("Radiographie du thorax", "Opacité pulmonaire droite, bronchite probable, amoxicilline."),
    ("Lettre du cardiologue", "Souffle systolique ; migraines fréquentes, échographie cardiaque prévue."),
    ("Glycémies capillaires", "Carnet de surveillance du diabète."),
]

# Accents, stemming (plural, verb forms), phrases, negation, a partial word only the title has.
QUERIES = [
    "glycémie",
    "glycemie",
    "analyse",
    "douleur thoracique",
    '"hémoglobine glyquée"',
    "cardiologue -migraine",
    "migraine",
    "traité",
    "glyc",
    "CHU",
    "xyzzy",
]


def _old_search(documents, query: str):
    """Search as it was computed before the stored vector: per row, per query."""
    from django.contrib.postgres.search import SearchQuery, SearchVector

    vector = SearchVector("title", weight="A", config="french") + SearchVector(
        "extracted_text", "type_display", "author_name", "organisation", weight="B", config="french"
    )
    return documents.annotate(search=vector).filter(
        Q(search=SearchQuery(query, config="french", search_type="websearch")) | Q(title__icontains=query)
    )


@pytest.fixture
def french_documents(alice_record):
    return [
        DocumentFactory(record=alice_record, title=title, extracted_text=text, organisation="CHU de Lyon" * (n % 2))
        for n, (title, text) in enumerate(TEXTS)
    ]


@pytest.mark.postgres
@postgres_only
@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.usefixtures("french_documents")
def test_search_finds_the_same_documents_as_the_per_row_vector_did(alice_record, query):
    new = list(_search(_ordered(alice_record.documents.all()), query).values_list("title", flat=True))
    old = list(_old_search(_ordered(alice_record.documents.all()), query).values_list("title", flat=True))

    assert new == old


@pytest.mark.postgres
@postgres_only
@pytest.mark.parametrize("query", ["glycémies", "glycemie", "GLYCÉMIE"])
@pytest.mark.usefixtures("french_documents")
def test_search_finds_french_words_whatever_their_form(alice, alice_record, query):
    page = documents_timeline(actor=alice, record=alice_record, filters=TimelineFilters(query=query))

    assert {document.title for document in page.documents} == {"Bilan sanguin", "Glycémies capillaires"}


@pytest.mark.postgres
@postgres_only
class TestStoredVector:
    def _matches(self, record, query: str) -> set[str]:
        return set(_search(_ordered(record.documents.all()), query).values_list("title", flat=True))

    def test_a_new_document_is_searchable_at_once(self, alice_record):
        DocumentFactory(record=alice_record, title="Compte rendu", extracted_text="Lombalgie chronique")

        assert self._matches(alice_record, "lombalgies") == {"Compte rendu"}

    def test_bulk_inserted_documents_are_searchable(self, alice_record):
        # The bench seeder and imports write with bulk_create: the trigger fills the vector there too.
        Document.objects.bulk_create(
            [
                Document(
                    record=alice_record,
                    title=f"Note {n}",
                    extracted_text="kinésithérapie",
                    source="patient",
                    content_hash=f"{n:064x}",
                    size=1,
                )
                for n in range(3)
            ]
        )

        assert self._matches(alice_record, "kinésithérapie") == {"Note 0", "Note 1", "Note 2"}

    def test_changing_the_text_changes_what_finds_the_document(self, alice_record):
        document = DocumentFactory(record=alice_record, title="Compte rendu", extracted_text="Lombalgie")
        document.extracted_text = "Vertiges positionnels"
        document.save()

        assert self._matches(alice_record, "vertige") == {"Compte rendu"}
        assert self._matches(alice_record, "lombalgie") == set()

    def test_renaming_the_document_changes_what_finds_it(self, alice_record):
        document = DocumentFactory(record=alice_record, title="Ordonnance", extracted_text="")
        Document.objects.filter(pk=document.pk).update(title="Échographie abdominale")

        assert self._matches(alice_record, "échographies") == {"Échographie abdominale"}
        assert self._matches(alice_record, "ordonnance") == set()

    def test_the_title_weighs_more_than_the_text(self, alice_record):
        document = DocumentFactory(record=alice_record, title="Scanner", extracted_text="cérébral")
        vector = Document.objects.values_list("search_vector", flat=True).get(pk=document.pk)

        assert "'scann':1A" in vector
        assert "'cérébral':2" in vector

    def test_search_reads_the_stored_vector_instead_of_computing_it(self, alice, alice_record):
        DocumentFactory(record=alice_record, title="Bilan", extracted_text="glycémie")
        with CaptureQueriesContext(connection) as ctx:
            documents_timeline(actor=alice, record=alice_record, filters=TimelineFilters(query="glycémie"))
        searches = [q["sql"] for q in ctx.captured_queries if "websearch_to_tsquery" in q["sql"]]
        assert len(searches) == 2  # the page and the category counts

        with connection.cursor() as cursor:
            plans = []
            for sql in searches:
                cursor.execute(f"EXPLAIN (VERBOSE) {sql}")
                plans.append("\n".join(row[0] for row in cursor.fetchall()))

        assert all("search_vector @@" in plan for plan in plans)
        assert not any("to_tsvector" in plan for plan in plans)

    def test_the_vector_has_a_gin_index(self, db):
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'records_document'")
            definitions = [row[0] for row in cursor.fetchall()]

        assert any("USING gin (search_vector)" in definition for definition in definitions)


def test_search_without_postgresql_still_matches_the_text(alice, alice_record):
    # SQLite (the embedded default) leaves the vector empty and searches with icontains.
    DocumentFactory(record=alice_record, title="Bilan", extracted_text="TSH 2.5 mUI/L normal")
    DocumentFactory(record=alice_record, title="Radio du genou", extracted_text="genou")

    page = documents_timeline(actor=alice, record=alice_record, filters=TimelineFilters(query="TSH"))

    assert [document.title for document in page.documents] == ["Bilan"]


def _api_queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith('INSERT INTO "access_accessevent"')]


def test_documents_api_runs_the_same_queries_for_3_and_30_documents(as_user, alice, alice_record):
    client = as_user(alice)
    url = f"/api/v1/records/{alice_record.uuid}/documents/"
    DocumentFactory.create_batch(3, record=alice_record)
    client.get(url)  # settle the session
    few = _api_queries(client, url)
    DocumentFactory.create_batch(27, record=alice_record)

    many = _api_queries(client, url)

    assert len(client.get(url).json()["results"]) == 30
    assert len(many) == len(few)


def test_documents_api_names_the_record_of_each_document(as_user, alice, alice_record):
    DocumentFactory.create_batch(2, record=alice_record)

    results = as_user(alice).get(f"/api/v1/records/{alice_record.uuid}/documents/").json()["results"]

    assert {item["record"] for item in results} == {str(alice_record.uuid)}


def test_documents_api_with_a_search_runs_the_same_queries_for_3_and_30_matches(as_user, alice, alice_record):
    client = as_user(alice)
    url = f"/api/v1/records/{alice_record.uuid}/documents/?q=bilan"
    DocumentFactory.create_batch(3, record=alice_record, title="Bilan")
    client.get(url)
    few = _api_queries(client, url)
    DocumentFactory.create_batch(27, record=alice_record, title="Bilan")

    assert len(_api_queries(client, url)) == len(few)
