"""The record's search box: facts and documents found by the words a person uses, in French and
English, each fact one line with its value, date and source, through the door."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.access.models import AccessEvent, CareRelationship
from apps.access.policy import Action
from apps.access.refusals import RecordUnavailable
from apps.clinical.lay_terms import interpret, lay_table
from apps.clinical.models import ClinicalFact
from apps.delegations import services as delegations
from apps.delegations.models import Delegation, Scope
from apps.records.models import Document
from apps.summaries.search import SearchRefused, record_search
from tests.factories import DocumentFactory, RecordFactory

LOINC = "http://loinc.org"
ATC = "http://www.whocc.no/atc"
CVX = "http://hl7.org/fhir/sid/cvx"


def fact(record, document, **fields) -> ClinicalFact:
    defaults = {"kind": "observation", "code_system": LOINC, "effective_date": date(2026, 3, 3)}
    return ClinicalFact.objects.create(record=record, source_document=document, **{**defaults, **fields})


def search(actor, record, query, language="en"):
    return record_search(actor=actor, record=record, query=query, language=language)


def codes(results) -> set[str]:
    return {thing.latest.code for thing in results.things}


def page(client, record, query: str):
    return client.get(reverse("record_search", args=[record.uuid]), {"q": query})


def one_line(html: str, text: str) -> str:
    """The search result (a list item) that holds ``text``, its tags stripped, its spaces collapsed."""
    items = re.findall(r'<li class="search-result".*?</li>', html, flags=re.S)
    found = [" ".join(re.sub(r"<[^>]+>", "", item).split()) for item in items if text in item]
    assert len(found) == 1, items
    return found[0]


@pytest.fixture
def lipids(alice_record):
    """A lipid panel whose lines do not say "cholesterol": only their LOINC codes do."""
    report = DocumentFactory(record=alice_record, title="Bilan biologique", category="lab_result")
    fact(alice_record, report, code="2093-3", display="CT", value_decimal=Decimal("2.1"), unit="g/L")
    fact(alice_record, report, code="2089-1", display="LDL-C", value_decimal=Decimal("1.3"), unit="g/L")
    fact(alice_record, report, code="2085-9", display="HDL-C", value_decimal=Decimal("0.55"), unit="g/L")
    fact(alice_record, report, code="2345-7", display="Glycémie", value_decimal=Decimal("0.95"), unit="g/L")
    return report


# --- the lay-term table -----------------------------------------------------------------------------


def test_lay_term_table_is_versioned_and_names_known_kinds():
    table = lay_table()
    assert table.version
    assert {entry.id for entry in table.entries} >= {"cholesterol", "blood_pressure", "flu_vaccine", "blood_test"}


@pytest.mark.parametrize(
    ("query", "entry"),
    [
        ("cholesterol", "cholesterol"),
        ("Cholestérol", "cholesterol"),
        ("chol", "cholesterol"),
        ("tension", "blood_pressure"),
        ("TA", "blood_pressure"),
        ("vaccins", "vaccinations"),
        ("glycémie", "glucose"),
        ("hémoglobine glyquée", "hba1c"),
        ("ventoline", "salbutamol"),
        ("my last blood test", "blood_test"),
        ("Dernière prise de sang", "blood_test"),
    ],
)
def test_lay_words_name_their_entry_folded_plural_and_prefix(query, entry):
    assert [e.id for e in interpret(query).entries] == [entry]


def test_the_longer_term_wins_over_the_words_it_contains():
    # "vaccin grippe" is the flu vaccines, not every vaccine and every flu.
    assert [e.id for e in interpret("vaccin grippe").entries] == ["flu_vaccine"]


# --- what is found ----------------------------------------------------------------------------------


def test_cholesterol_finds_total_ldl_and_hdl_by_their_loinc_codes(alice, alice_record, lipids):
    assert codes(search(alice, alice_record, "cholesterol")) == {"2093-3", "2089-1", "2085-9"}


def test_french_cholesterol_with_its_accent_finds_the_same(alice, alice_record, lipids):
    assert codes(search(alice, alice_record, "cholestérol", language="fr")) == {"2093-3", "2089-1", "2085-9"}


def test_a_result_is_one_line_with_value_date_and_source(as_user, alice, alice_record, lipids):
    html = page(as_user(alice), alice_record, "cholesterol").content.decode()
    line = one_line(html, "2.1 g/L")
    assert re.fullmatch(r".+: 2\.1 g/L, 3 March 2026, from Bilan biologique · .+", line), line
    assert reverse("document_detail", args=[lipids.uuid]) in html


def test_the_latest_value_comes_first_with_the_earlier_ones_after_it(alice, alice_record):
    old = DocumentFactory(record=alice_record, title="Bilan 2025")
    new = DocumentFactory(record=alice_record, title="Bilan 2026")
    fact(
        alice_record, old, code="4548-4", display="HbA1c", value_decimal=Decimal("7.9"), effective_date=date(2025, 1, 5)
    )
    fact(
        alice_record, new, code="4548-4", display="HbA1c", value_decimal=Decimal("7.1"), effective_date=date(2026, 1, 5)
    )
    [thing] = search(alice, alice_record, "HbA1c").things
    assert (thing.latest.number, thing.latest.sources[0].title) == (Decimal("7.1"), "Bilan 2026")
    assert [line.number for line in thing.earlier] == [Decimal("7.9")]


def test_tension_finds_systolic_and_diastolic(alice, alice_record):
    visit = DocumentFactory(record=alice_record)
    fact(alice_record, visit, code="8480-6", display="Systolic blood pressure", value_decimal=132, unit="mm[Hg]")
    fact(alice_record, visit, code="8462-4", display="Diastolic blood pressure", value_decimal=84, unit="mm[Hg]")
    fact(alice_record, visit, code="8867-4", display="Heart rate", value_decimal=70, unit="/min")
    assert codes(search(alice, alice_record, "tension")) == {"8480-6", "8462-4"}


def test_vaccin_grippe_finds_flu_vaccinations_coded_cvx_or_atc(alice, alice_record):
    card = DocumentFactory(record=alice_record, category="vaccination")
    fact(alice_record, card, kind="immunization", code_system=CVX, code="140", display="Influenza, seasonal")
    fact(alice_record, card, kind="immunization", code_system=ATC, code="J07BB02", display="VAXIGRIP TETRA")
    fact(alice_record, card, kind="immunization", code_system=CVX, code="115", display="Tdap")
    assert codes(search(alice, alice_record, "vaccin grippe", language="fr")) == {"140", "J07BB02"}


def test_ventoline_finds_salbutamol_by_its_atc_code(alice, alice_record):
    prescription = DocumentFactory(record=alice_record, category="prescription")
    fact(alice_record, prescription, kind="medication", code_system=ATC, code="R03AC02", display="SALBUTAMOL 100 µg")
    fact(alice_record, prescription, kind="medication", code_system=ATC, code="A10BA02", display="METFORMINE 500 mg")
    assert codes(search(alice, alice_record, "ventoline", language="fr")) == {"R03AC02"}


@pytest.mark.parametrize("query", ["hypercholesterolemie", "HYPERCHOLESTÉROLÉMIE", "cholestérolémie familiale"])
def test_words_the_table_does_not_know_are_found_in_the_text_whatever_the_accents(alice, alice_record, query):
    letter = DocumentFactory(record=alice_record)
    fact(alice_record, letter, kind="condition", code_system="", code="", display="Hypercholestérolémie familiale")
    fact(alice_record, letter, kind="condition", code_system="", code="", display="Lombalgie chronique")
    found = search(alice, alice_record, query)
    assert [thing.latest.display for thing in found.things] == ["Hypercholestérolémie familiale"]


@pytest.mark.parametrize(("query", "language"), [("my last blood test", "en"), ("dernière prise de sang", "fr")])
def test_last_blood_test_gives_the_results_of_the_latest_laboratory_date(alice, alice_record, query, language):
    older = DocumentFactory(record=alice_record, title="Bilan janvier 2025", category="lab_result")
    latest = DocumentFactory(record=alice_record, title="Bilan février 2026", category="lab_result")
    visit = DocumentFactory(record=alice_record, title="Consultation")
    fact(alice_record, older, code="2160-0", display="Créatinine", value_decimal=9, effective_date=date(2025, 1, 10))
    fact(alice_record, older, code="4548-4", display="HbA1c", value_decimal=7, effective_date=date(2025, 1, 10))
    fact(alice_record, latest, code="4548-4", display="HbA1c", value_decimal=6, effective_date=date(2026, 2, 1))
    fact(alice_record, latest, code="2093-3", display="CT", value_decimal=2, effective_date=date(2026, 2, 1))
    # A weighing after the blood test is a vital sign, not a laboratory result.
    fact(alice_record, visit, code="29463-7", display="Poids", value_decimal=80, effective_date=date(2026, 3, 1))
    found = search(alice, alice_record, query, language=language)
    assert found.latest_only
    assert {(thing.latest.code, thing.latest.date) for thing in found.things} == {
        ("4548-4", date(2026, 2, 1)),
        ("2093-3", date(2026, 2, 1)),
    }


def test_documents_are_found_by_the_existing_full_text_search(alice, alice_record):
    DocumentFactory(record=alice_record, title="Compte rendu de scanner thoracique")
    DocumentFactory(record=alice_record, title="Ordonnance")
    found = search(alice, alice_record, "scanner")
    assert [document.title for document in found.documents] == ["Compte rendu de scanner thoracique"]


# --- who sees what ----------------------------------------------------------------------------------


def test_a_fact_of_a_document_hidden_from_professionals_is_not_found_by_one(alice, alice_record, dr_martin):
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    shown = DocumentFactory(record=alice_record, category="lab_result")
    hidden = DocumentFactory(record=alice_record, category="lab_result", masked=True)
    fact(alice_record, shown, code="4548-4", display="HbA1c", value_decimal=7, effective_date=date(2025, 1, 1))
    fact(alice_record, hidden, code="4548-4", display="HbA1c", value_decimal=9, effective_date=date(2026, 1, 1))
    [thing] = search(dr_martin, alice_record, "hba1c").things
    assert (thing.latest.number, thing.earlier) == (Decimal(7), [])
    assert search(alice, alice_record, "hba1c").things[0].latest.number == Decimal(9)


def test_a_fact_of_a_category_the_profession_matrix_keeps_from_the_doctor_is_not_found(
    settings, alice_record, dr_martin
):
    settings.PROFESSION_DOCUMENT_MATRIX = {"general_practitioner": frozenset({"lab_result", "prescription", "other"})}
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    report = DocumentFactory(record=alice_record, category="report")
    fact(alice_record, report, kind="condition", code_system="", code="", display="Cholestérol familial")
    assert search(dr_martin, alice_record, "cholesterol").things == []


def test_a_caregiver_who_may_read_the_profile_sees_values_but_no_document_title(
    as_user, alice, alice_record, bob, lipids
):
    delegation, _token = delegations.delegation_invite(
        actor=alice, record=alice_record, email=bob.email, scopes=[Scope.READ_PROFILE]
    )
    Delegation.objects.filter(pk=delegation.pk).update(delegate=bob, accepted_at=timezone.now())
    found = search(bob, alice_record, "cholesterol")
    assert codes(found) == {"2093-3", "2089-1", "2085-9"}
    assert all(source.withheld and not source.title for t in found.things for source in t.latest.sources)
    assert not found.documents_searched
    html = page(as_user(bob), alice_record, "cholesterol").content.decode()
    assert "2.1 g/L" in html
    assert "Bilan biologique" not in html
    assert reverse("document_detail", args=[lipids.uuid]) not in html


def test_someone_without_access_gets_the_one_404_journaled(as_user, alice_record, charlie, lipids):
    client = as_user(charlie)
    refused_page = page(client, alice_record, "cholesterol")
    refused_api = client.get(reverse("api_record_search", args=[alice_record.uuid]), {"q": "cholesterol"})
    missing_api = client.get(f"/api/v1/records/{RecordFactory.build().uuid}/search/", {"q": "cholesterol"})
    assert (refused_page.status_code, refused_api.status_code) == (404, 404)
    assert refused_api.content == missing_api.content
    assert AccessEvent.objects.filter(record_uuid=alice_record.uuid, actor_uuid=charlie.uuid, outcome="denied").exists()
    with pytest.raises(RecordUnavailable):
        search(charlie, alice_record, "cholesterol")


def test_a_search_is_journaled_once_as_a_read_of_the_profile(alice, alice_record, lipids):
    before = AccessEvent.objects.filter(action=Action.PROFILE_READ).count()
    search(alice, alice_record, "cholesterol")
    assert AccessEvent.objects.filter(action=Action.PROFILE_READ).count() == before + 1


def test_an_empty_or_too_short_query_says_so_and_reads_nothing(as_user, alice, alice_record, lipids):
    before = AccessEvent.objects.count()
    for query in ("", "c", "  my  "):
        found = search(alice, alice_record, query)
        assert found.message
        assert not found.searched
    assert AccessEvent.objects.count() == before
    assert "Type at least 2 letters" in page(as_user(alice), alice_record, "c").content.decode()


def test_nothing_found_says_so_with_suggestions(as_user, alice, alice_record, lipids):
    html = page(as_user(alice), alice_record, "zzzyx").content.decode()
    assert "Nothing found for “zzzyx”." in html
    assert "?q=cholesterol" in html


def test_a_query_over_200_characters_is_refused_with_a_reason(as_user, alice, alice_record):
    with pytest.raises(SearchRefused, match="at most 200 characters"):
        search(alice, alice_record, "a" * 201)
    client = as_user(alice)
    api = client.get(reverse("api_record_search", args=[alice_record.uuid]), {"q": "a" * 201})
    assert api.status_code == 400
    assert "at most 200 characters" in api.json()["q"][0]
    web = page(client, alice_record, "a" * 201)
    assert web.status_code == 400
    assert 'aria-invalid="true"' in web.content.decode()
    assert "at most 200 characters" in web.content.decode()


# --- the pages and the API --------------------------------------------------------------------------


def test_the_record_first_page_has_the_search_box(as_user, alice, alice_record):
    html = as_user(alice).get(reverse("record_detail", args=[alice_record.uuid])).content.decode()
    assert f'action="{reverse("record_search", args=[alice_record.uuid])}"' in html
    assert '<label id="record-search-label" for="record-search-q">Find in this record</label>' in html


def test_the_api_gives_the_same_results(as_user, alice, alice_record, lipids):
    body = as_user(alice).get(reverse("api_record_search", args=[alice_record.uuid]), {"q": "cholesterol"}).json()
    found = search(alice, alice_record, "cholesterol")
    assert [(f["latest"]["code"], f["latest"]["value"]) for f in body["facts"]] == [
        (thing.latest.code, thing.latest.value) for thing in found.things
    ]
    assert body["facts"][0]["latest"]["sources"][0]["document_id"] == str(lipids.uuid)


def _facts(record, count: int, start: int) -> None:
    documents = Document.objects.bulk_create(
        Document(record=record, title=f"Bilan {i}", source="patient", status="ready", content_hash=f"{i:064x}", size=1)
        for i in range(start, start + count)
    )
    ClinicalFact.objects.bulk_create(
        ClinicalFact(
            record=record,
            source_document=document,
            kind="observation",
            code_system=LOINC,
            code=("2093-3", "2089-1", "2085-9", "4548-4")[i % 4],
            display="Lipid",
            value_decimal=Decimal(i % 7),
            unit="g/L",
            effective_date=date(2015, 1, 1) + timedelta(days=i),
        )
        for i, document in enumerate(documents, start=start)
    )


def test_a_search_runs_the_same_queries_for_10_and_100_facts(as_user, alice, alice_record):
    client = as_user(alice)
    url = reverse("api_record_search", args=[alice_record.uuid])
    _facts(alice_record, 10, 0)
    client.get(url, {"q": "cholesterol"})

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(url, {"q": "cholesterol"}).status_code == 200
        return len(context.captured_queries)

    few = queries()
    _facts(alice_record, 90, 10)
    assert queries() == few
