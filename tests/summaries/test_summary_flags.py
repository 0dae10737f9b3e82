"""What documents say of the person (died, another identity), at the top of the summary: only from
documents the reader may see, each with the document that says it."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.access.models import CareRelationship
from apps.summaries.builder import record_summary
from apps.summaries.flags import summary_flags
from apps.summaries.pdf import summary_html
from tests.factories import DocumentFactory


def death_notice(record, **fields):
    defaults = {
        "title": "Certificat",
        "care_date": date(2024, 2, 2),
        "patient_deceased": True,
        "patient_deceased_on": date(2024, 2, 1),
    }
    return DocumentFactory(record=record, **{**defaults, **fields})


def test_the_owner_reads_that_a_document_says_the_person_died(alice, alice_record):
    document = death_notice(alice_record)
    flags = record_summary(actor=alice, record=alice_record).flags
    assert [(f.kind, f.document_id, f.deceased_on) for f in flags] == [
        ("deceased", str(document.uuid), date(2024, 2, 1))
    ]


def test_the_summary_page_says_it_at_the_top_with_the_document(as_user, alice, alice_record):
    document = death_notice(alice_record)
    page = as_user(alice).get(reverse("record_detail", args=[alice_record.uuid])).content.decode()
    sentence = "A document from Feb. 2, 2024 (Certificat) says this person died on Feb. 1, 2024."
    assert sentence in page
    assert page.index("What matters now") < page.index(sentence) < page.index('class="summary-grid"')
    assert reverse("document_detail", args=[document.uuid]) in page


def test_the_printed_summary_says_it_too_without_a_link(alice, alice_record):
    document = death_notice(alice_record)
    html = summary_html(summary=record_summary(actor=alice, record=alice_record))
    assert "A document from Feb. 2, 2024 (Certificat) says this person died on Feb. 1, 2024." in html
    assert reverse("document_detail", args=[document.uuid]) not in html


def test_a_professional_who_may_see_the_document_reads_the_flag(alice_record, dr_martin):
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    death_notice(alice_record, category="report")
    assert [f.kind for f in record_summary(actor=dr_martin, record=alice_record).flags] == ["deceased"]


def test_a_professional_who_may_not_see_the_document_reads_nothing_of_it(as_user, alice_record, dr_martin):
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    death_notice(alice_record, category="report", masked=True)
    assert record_summary(actor=dr_martin, record=alice_record).flags == []
    body = as_user(dr_martin).get(f"/api/v1/records/{alice_record.uuid}/summary/").json()
    assert body["flags"] == []


def test_an_identity_that_differs_is_said_with_what_differs(alice, alice_record):
    DocumentFactory(record=alice_record, title="Bilan", identity_flags=["ins_test_identifier", "name_differs"])
    (flag,) = record_summary(actor=alice, record=alice_record).flags
    assert flag.kind == "identity"
    assert flag.identity_labels == [
        "a test national identifier (INS), not a real person's",
        "other names than this record's",
    ]


def test_the_api_gives_the_flags_with_their_document(as_user, alice, alice_record):
    document = death_notice(alice_record)
    body = as_user(alice).get(f"/api/v1/records/{alice_record.uuid}/summary/").json()
    assert body["flags"] == [
        {
            "kind": "deceased",
            "document_id": str(document.uuid),
            "document_title": "Certificat",
            "document_date": "2024-02-02",
            "deceased_on": "2024-02-01",
            "identity": [],
            "identity_labels": [],
        }
    ]


def test_flags_come_newest_first_deaths_first(alice, alice_record):
    old = DocumentFactory(record=alice_record, care_date=date(2020, 1, 1), identity_flags=["name_differs"])
    new = DocumentFactory(record=alice_record, care_date=date(2023, 1, 1), identity_flags=["name_differs"])
    died = death_notice(alice_record, care_date=date(2021, 1, 1))
    flags = record_summary(actor=alice, record=alice_record).flags
    assert [f.document_id for f in flags] == [str(died.uuid), str(new.uuid), str(old.uuid)]


def test_documents_saying_nothing_of_the_person_raise_no_flag(alice, alice_record):
    DocumentFactory(record=alice_record)
    assert record_summary(actor=alice, record=alice_record).flags == []


def test_flags_take_one_query_whatever_the_number_of_documents(alice, alice_record):
    for day in range(1, 8):
        death_notice(alice_record, care_date=date(2024, 1, day), identity_flags=["name_differs"])
    with CaptureQueriesContext(connection) as queries:
        flags = summary_flags(actor=alice, record=alice_record)
    assert len(flags) == 10  # 5 documents, each with both flags
    assert len(queries.captured_queries) == 1
