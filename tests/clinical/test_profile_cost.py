"""The medical profile lists every fact with a link to its source, without reading the sources' text."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.clinical.models import ClinicalFact
from apps.clinical.profile import profile_for
from tests.factories import DocumentFactory


def test_profile_links_sources_without_reading_their_text(alice, alice_record):
    document = DocumentFactory(record=alice_record, title="Bilan", extracted_text="Compte rendu " * 1000)
    ClinicalFact.objects.create(record=alice_record, source_document=document, kind="allergy", display="Latex")
    with CaptureQueriesContext(connection) as queries:
        profile = profile_for(actor=alice, record=alice_record)
    [item] = profile.facts
    assert (item.source_document.uuid, item.source_label) == (document.uuid, "Bilan")
    assert not [q["sql"] for q in queries.captured_queries if "extracted_text" in q["sql"]]
