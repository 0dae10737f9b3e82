"""The access history a patient understands: sentences, filters, badges, exports, API."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from apps.access.actors import ImportService
from apps.access.history.services import HistoryFilters, history_for
from apps.access.journal import journal_append
from apps.access.models import AccessEvent, CareRelationship
from apps.access.policy import REASONS, Action, Resource, authorize
from apps.access.refusals import RecordUnavailable
from apps.access.verification import verify_journal
from apps.records.models import Document
from tests.factories import DocumentFactory, ProfessionalFactory

LAB_REPORT = "Compte rendu d'examens biologiques"
EN = {"accept-language": "en"}


def _journal(record, actor=None, **fields) -> AccessEvent:
    """An entry written as the journal writes it, for bases the test setup cannot easily reach."""
    values = {
        "actor_uuid": actor.uuid if actor else None,
        "actor_label": str(actor) if actor else "",
        "actor_role": actor.role if actor else "anonymous",
        "record_uuid": record.uuid,
        "action": Action.RECORD_VIEW,
        "resource_type": "record",
        "basis": "care_relationship",
        "outcome": "allowed",
        "reason_code": "care_relationship",
    }
    values.update(fields)
    return journal_append([AccessEvent(**values)])[0]


def _lab_read(record, professional, **fields) -> AccessEvent:
    values = {
        "action": Action.DOCUMENT_READ,
        "resource_type": "document",
        "resource_uuid": uuid.uuid4(),
        "resource_label": LAB_REPORT,
    }
    values.update(fields)
    return _journal(record, professional, **values)


def _sentences(reader, record, **filters) -> list[str]:
    with translation.override("en"):
        page = history_for(actor=reader, record=record, filters=HistoryFilters(**filters))
    # Leave out the readings of the history themselves (this one included).
    return [entry.sentence for entry in page.entries if entry.event.action != Action.JOURNAL_READ]


def _at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


# --- Sentences -------------------------------------------------------------------------


def test_owner_opening_own_record_reads_you_opened_your_record(alice, alice_record):
    authorize(actor=alice, record=alice_record, action=Action.RECORD_VIEW)
    assert _sentences(alice, alice_record) == ["You opened your record."]


def test_professional_entry_names_profession_document_and_basis(alice, alice_record, dr_martin):
    _lab_read(alice_record, dr_martin)
    assert _sentences(alice, alice_record) == [
        f"Dr Claire Martin, general practitioner, opened your document “{LAB_REPORT}”, "
        "as a professional caring for you."
    ]


def test_stranger_attempt_reads_as_refused(alice, alice_record, charlie):
    authorize(actor=charlie, record=alice_record, action=Action.RECORD_VIEW)
    assert _sentences(alice, alice_record) == ["Charlie Durand tried to open your record: refused."]


def test_import_entry_names_the_operator(alice, alice_record):
    resource = Resource(type="document", uuid=uuid.uuid4(), label="Ordonnance")
    authorize(
        actor=ImportService(operator="olga"), record=alice_record, action=Action.DOCUMENT_UPLOAD, resource=resource
    )
    assert _sentences(alice, alice_record) == ["The bulk import (operator olga) added your document “Ordonnance”."]


def test_on_behalf_of_names_the_actor_and_the_person(alice, alice_record, bob):
    _journal(
        alice_record,
        bob,
        basis="delegation",
        reason_code="delegation",
        on_behalf_of_uuid=alice.uuid,
        on_behalf_of_label=str(alice),
    )
    assert _sentences(alice, alice_record) == [
        "Bob Martin, for Alice Martin, opened your record, as a caregiver you chose."
    ]


@pytest.mark.parametrize(
    ("basis", "phrase"),
    [
        ("parent", "as the parent of a child"),
        ("delegation", "as a caregiver you chose"),
        ("care_relationship", "as a professional caring for you"),
        ("designated_doctor", "as your designated doctor"),
        ("access_code", "with an access code you gave"),
        ("break_glass", "by declaring an emergency"),
        ("mandate", "under a support mandate"),
    ],
)
def test_each_basis_reads_as_a_phrase(alice, alice_record, bob, basis, phrase):
    _journal(alice_record, bob, basis=basis, reason_code=basis)
    assert _sentences(alice, alice_record) == [f"Bob Martin opened your record, {phrase}."]


@pytest.mark.parametrize(
    ("code", "refusal"),
    [
        ("blocked", "refused: you blocked this professional"),
        ("masked", "refused: this document is hidden from professionals"),
        ("professional_access_off", "refused: professional access is turned off"),
    ],
)
def test_refusal_names_the_persons_own_restriction(alice, alice_record, dr_martin, code, refusal):
    _lab_read(alice_record, dr_martin, basis="none", outcome="denied", reason_code=code)
    assert _sentences(alice, alice_record) == [
        f"Dr Claire Martin, general practitioner, tried to open your document “{LAB_REPORT}”: {refusal}."
    ]


def test_other_refusals_give_the_policy_reason(alice, alice_record, sam):
    authorize(actor=sam, record=alice_record, action=Action.RECORD_VIEW)
    with translation.override("en"):
        entry = history_for(actor=alice, record=alice_record, filters=HistoryFilters()).entries[1]
        assert entry.sentence == "Sam Leroy, support agent, tried to open your record: refused."
        assert entry.reason == str(REASONS["support_without_mandate"])


def test_an_action_without_a_phrase_still_reads(alice, alice_record, bob):
    _journal(alice_record, bob, action="consent.sign", basis="delegation", reason_code="delegation")
    assert _sentences(alice, alice_record) == [
        "Bob Martin acted on your record (consent.sign), as a caregiver you chose."
    ]


# --- Who may read it -----------------------------------------------------------------


def test_owner_reads_the_history_page(as_user, alice, alice_record, charlie):
    authorize(actor=charlie, record=alice_record, action=Action.RECORD_VIEW)
    response = as_user(alice).get(reverse("access_history", args=[alice_record.uuid]), headers=EN)
    assert response.status_code == 200
    assert "Charlie Durand tried to open your record: refused." in response.content.decode()


def test_reading_the_history_is_journaled(as_user, alice, alice_record):
    as_user(alice).get(reverse("access_history", args=[alice_record.uuid]))
    entry = AccessEvent.objects.for_record(alice_record.uuid).order_by("-seq").first()
    assert (entry.actor_uuid, entry.action, entry.outcome) == (alice.uuid, Action.JOURNAL_READ, "allowed")


def test_the_page_writes_exactly_one_journal_entry(as_user, alice, alice_record):
    before = AccessEvent.objects.count()
    as_user(alice).get(reverse("access_history", args=[alice_record.uuid]))
    assert AccessEvent.objects.count() == before + 1


def test_parent_reads_the_childs_history(as_user, alice, alice_child):
    authorize(actor=alice, record=alice_child, action=Action.RECORD_VIEW)
    response = as_user(alice).get(reverse("access_history", args=[alice_child.uuid]), headers=EN)
    assert response.status_code == 200
    assert "You opened the record of Léo Martin, as the parent of a child." in response.content.decode()


@pytest.fixture
def dr_martin_caring_for_alice(dr_martin, alice_record):
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    return dr_martin


@pytest.mark.parametrize("persona", ["charlie", "dr_martin_caring_for_alice", "sam", "olga"])
def test_others_get_404_and_the_attempt_is_journaled(request, as_user, alice_record, persona):
    user = request.getfixturevalue(persona)
    response = as_user(user).get(reverse("access_history", args=[alice_record.uuid]))
    assert response.status_code == 404
    assert AccessEvent.objects.filter(
        actor_uuid=user.uuid, record_uuid=alice_record.uuid, action=Action.JOURNAL_READ, outcome="denied"
    ).exists()


def test_missing_record_is_404(as_user, alice):
    assert as_user(alice).get(reverse("access_history", args=[uuid.uuid4()])).status_code == 404


def test_history_for_raises_record_unavailable_when_refused(charlie, alice_record):
    with pytest.raises(RecordUnavailable):
        history_for(actor=charlie, record=alice_record, filters=HistoryFilters())


# --- Filters ----------------------------------------------------------------------------


@pytest.fixture
def mixed_history(alice, alice_record, charlie, dr_martin, sam):
    authorize(actor=alice, record=alice_record, action=Action.RECORD_VIEW)
    authorize(actor=charlie, record=alice_record, action=Action.RECORD_VIEW)
    authorize(actor=sam, record=alice_record, action=Action.RECORD_VIEW)
    _lab_read(alice_record, dr_martin)
    authorize(
        actor=ImportService(operator="olga"),
        record=alice_record,
        action=Action.DOCUMENT_UPLOAD,
        resource=Resource(type="document", uuid=uuid.uuid4(), label="Ordonnance"),
    )


@pytest.mark.parametrize(
    ("kind", "who"),
    [
        ("you", "You"),
        ("people", "Charlie Durand"),
        ("professional", "Dr Claire Martin"),
        ("support", "Sam Leroy"),
        ("service", "The bulk import"),
    ],
)
def test_filter_by_kind_of_actor(alice, alice_record, mixed_history, kind, who):
    sentences = _sentences(alice, alice_record, actor_kind=kind)
    assert sentences
    assert all(s.startswith(who) for s in sentences)


def test_filter_by_person_name(alice, alice_record, mixed_history):
    assert _sentences(alice, alice_record, person="claire") == [
        f"Dr Claire Martin, general practitioner, opened your document “{LAB_REPORT}”, "
        "as a professional caring for you."
    ]


def test_filter_by_action_group(alice, alice_record, mixed_history):
    assert _sentences(alice, alice_record, action_group="added") == [
        "The bulk import (operator olga) added your document “Ordonnance”."
    ]


def test_filter_by_outcome(alice, alice_record, mixed_history):
    with translation.override("en"):
        page = history_for(actor=alice, record=alice_record, filters=HistoryFilters(outcome="denied"))
    assert {e.event.actor_label for e in page.entries} == {"Charlie Durand", "Sam Leroy"}


def test_filter_by_period(alice, alice_record, dr_martin):
    _lab_read(alice_record, dr_martin, occurred_at=_at(date(2025, 1, 10)), resource_label="January")
    _lab_read(alice_record, dr_martin, occurred_at=_at(date(2025, 2, 10)), resource_label="February")
    _lab_read(alice_record, dr_martin, occurred_at=_at(date(2025, 3, 10)), resource_label="March")
    page = history_for(
        actor=alice,
        record=alice_record,
        filters=HistoryFilters(date_from=date(2025, 2, 1), date_to=date(2025, 2, 28)),
    )
    assert [e.event.resource_label for e in page.entries] == ["February"]


def test_page_filters_through_the_get_form(as_user, alice, alice_record, mixed_history):
    url = reverse("access_history", args=[alice_record.uuid])
    body = as_user(alice).get(url, {"actor_kind": "professional"}, headers=EN).content.decode()
    assert "Dr Claire Martin" in body
    assert "Charlie Durand" not in body
    assert '<label for="id_actor_kind">' in body


# --- Grouping, badges, paging ----------------------------------------------------------------


def test_entries_are_grouped_by_day_newest_first(as_user, alice, alice_record, dr_martin):
    _lab_read(alice_record, dr_martin, occurred_at=_at(date(2025, 1, 10), 9))
    _lab_read(alice_record, dr_martin, occurred_at=_at(date(2025, 1, 10), 15))
    _lab_read(alice_record, dr_martin, occurred_at=_at(date(2025, 2, 3)))
    response = as_user(alice).get(reverse("access_history", args=[alice_record.uuid]), headers=EN)
    days = [(day, len(entries)) for day, entries in response.context["days"]]
    assert days == [(timezone.localdate(), 1), (date(2025, 2, 3), 1), (date(2025, 1, 10), 2)]
    assert response.content.decode().count('<h3><time datetime="2025-01-10">') == 1


def test_first_allowed_access_of_each_actor_gets_a_badge(alice, alice_record, dr_martin):
    refused = _lab_read(alice_record, dr_martin, outcome="denied", basis="none", reason_code="blocked")
    first = _lab_read(alice_record, dr_martin)
    second = _lab_read(alice_record, dr_martin)
    page = history_for(actor=alice, record=alice_record, filters=HistoryFilters())
    badges = {entry.event.seq: entry.first_access for entry in page.entries}
    assert badges[first.seq] is True
    assert badges[second.seq] is False
    assert badges[refused.seq] is False


def test_first_access_badge_is_shown_on_the_page(as_user, alice, alice_record, dr_martin):
    _lab_read(alice_record, dr_martin)
    body = as_user(alice).get(reverse("access_history", args=[alice_record.uuid]), headers=EN).content.decode()
    assert "First access" in body


def test_readers_own_entries_get_no_first_access_badge(alice, alice_record):
    authorize(actor=alice, record=alice_record, action=Action.RECORD_VIEW)
    page = history_for(actor=alice, record=alice_record, filters=HistoryFilters())
    assert not any(entry.first_access for entry in page.entries)


def test_break_glass_is_highlighted_with_words(as_user, alice, alice_record, dr_martin):
    _lab_read(alice_record, dr_martin, basis="break_glass", reason_code="break_glass")
    body = as_user(alice).get(reverse("access_history", args=[alice_record.uuid]), headers=EN).content.decode()
    assert 'class="history-entry emergency"' in body
    assert "Emergency access" in body
    assert "by declaring an emergency" in body


def test_refused_attempts_are_marked_in_words(as_user, alice, alice_record, charlie):
    authorize(actor=charlie, record=alice_record, action=Action.RECORD_VIEW)
    body = as_user(alice).get(reverse("access_history", args=[alice_record.uuid]), headers=EN).content.decode()
    assert 'class="history-entry refused"' in body
    assert '<span class="badge badge-refused">Refused</span>' in body


def test_keyset_paging_returns_older_entries_after_the_cursor(alice, alice_record, dr_martin):
    events = [_lab_read(alice_record, dr_martin, resource_label=f"Doc {n}") for n in range(5)]
    first = history_for(actor=alice, record=alice_record, filters=HistoryFilters(person="claire"), limit=3)
    assert [e.event.seq for e in first.entries] == [e.seq for e in reversed(events)][:3]
    second = history_for(
        actor=alice, record=alice_record, filters=HistoryFilters(person="claire"), before=first.next_before, limit=3
    )
    assert [e.event.seq for e in second.entries] == [events[1].seq, events[0].seq]
    assert second.next_before is None


def test_older_entries_link_leads_to_the_next_page(as_user, alice, alice_record, dr_martin):
    journal_append(_rows(alice_record, [dr_martin], 120))
    client = as_user(alice)
    url = reverse("access_history", args=[alice_record.uuid])
    response = client.get(url, {"actor_kind": "professional"})
    cursor = response.context["next_cursor"]
    assert cursor
    assert f"before={cursor}" in response.content.decode().replace("%3A", ":")
    older = client.get(url, {"actor_kind": "professional", "before": cursor})
    assert len(older.context["page"].entries) == 20
    assert not older.context["next_cursor"]


def _rows(record, professionals, count: int) -> list[AccessEvent]:
    kinds = [
        {"basis": "care_relationship", "outcome": "allowed", "reason_code": "care_relationship"},
        {"basis": "break_glass", "outcome": "allowed", "reason_code": "break_glass"},
        {"basis": "none", "outcome": "denied", "reason_code": "blocked"},
    ]
    rows = []
    for n in range(count):
        professional = professionals[n % len(professionals)]
        rows.append(
            AccessEvent(
                actor_uuid=professional.uuid,
                actor_label=str(professional),
                actor_role="professional",
                record_uuid=record.uuid,
                action=Action.DOCUMENT_READ,
                resource_type="document",
                resource_uuid=uuid.uuid4(),
                resource_label=f"Document {n}",
                occurred_at=timezone.now() - timedelta(hours=count - n),
                **kinds[n % len(kinds)],
            )
        )
    return rows


def _page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len([q for q in ctx.captured_queries if not q["sql"].startswith('INSERT INTO "access_accessevent"')])


def test_page_query_count_is_the_same_for_10_and_1000_entries(as_user, alice, alice_record, charlie):
    professionals = [ProfessionalFactory() for _ in range(5)]
    client = as_user(alice)
    url = reverse("access_history", args=[alice_record.uuid])
    journal_append(_rows(alice_record, professionals, 10))
    authorize(actor=charlie, record=alice_record, action=Action.RECORD_VIEW)
    client.get(url)  # settle the session (its expiry is written at most once a minute)
    few = _page_queries(client, url)
    journal_append(_rows(alice_record, professionals, 990))
    assert _page_queries(client, url) == few


# --- Exports ---------------------------------------------------------------------------------


def test_csv_export_parses_and_has_a_row_per_entry(as_user, alice, alice_record, dr_martin):
    event = _lab_read(alice_record, dr_martin)
    response = as_user(alice).get(reverse("access_history_csv", args=[alice_record.uuid]), headers=EN)
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows[0]) == 10
    row = next(r for r in rows[1:] if r[2] == "Dr Claire Martin")
    assert row[0] == timezone.localtime(event.occurred_at).isoformat(timespec="seconds")
    assert row[1].startswith("Dr Claire Martin, general practitioner, opened your document")
    assert (row[4], row[6], row[7], row[8]) == (
        "health professional",
        LAB_REPORT,
        "as a professional caring for you",
        "allowed",
    )


def test_csv_export_honours_the_filters(as_user, alice, alice_record, mixed_history):
    response = as_user(alice).get(
        reverse("access_history_csv", args=[alice_record.uuid]), {"outcome": "denied"}, headers=EN
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8").lstrip("\ufeff"))))[1:]
    assert {r[2] for r in rows} == {"Charlie Durand", "Sam Leroy"}
    assert all(r[9] for r in rows)  # each refusal says why


def test_csv_export_is_journaled_and_refused_to_others(as_user, alice, alice_record, charlie):
    assert as_user(charlie).get(reverse("access_history_csv", args=[alice_record.uuid])).status_code == 404
    as_user(alice).get(reverse("access_history_csv", args=[alice_record.uuid]))
    assert AccessEvent.objects.filter(actor_uuid=alice.uuid, action=Action.JOURNAL_READ).count() == 1


def _pdf_text(response) -> str:
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_pdf_export_has_the_sentences_and_the_chain_check(as_user, alice, alice_record, charlie):
    authorize(actor=charlie, record=alice_record, action=Action.RECORD_VIEW)
    verify_journal()  # the scheduled check; the PDF shows its last result
    response = as_user(alice).get(reverse("access_history_pdf", args=[alice_record.uuid]), headers=EN)
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response)
    assert "Charlie Durand tried to open your record: refused." in text
    assert "intact" in text
    assert "Alice MARTIN" in text
    assert "12 March 1979" in text


def test_pdf_export_says_where_the_chain_is_damaged(as_user, alice, alice_record, charlie):
    first = authorize(actor=charlie, record=alice_record, action=Action.RECORD_VIEW)
    assert not first.allowed
    event = AccessEvent.objects.order_by("seq").first()
    with connection.cursor() as cursor:  # an intruder with database rights
        if connection.vendor == "postgresql":
            pytest.skip("the database trigger refuses the change on PostgreSQL")
        cursor.execute("UPDATE access_accessevent SET outcome = 'allowed' WHERE id = %s", [event.pk])
    verify_journal()  # the scheduled check; the PDF shows its last result
    text = _pdf_text(as_user(alice).get(reverse("access_history_pdf", args=[alice_record.uuid]), headers=EN))
    assert "damaged (record" in text
    assert f"entry #{event.chain_seq} altered" in text


def test_pdf_export_is_refused_to_others(as_user, alice_record, charlie):
    assert as_user(charlie).get(reverse("access_history_pdf", args=[alice_record.uuid])).status_code == 404


# --- Retention ---------------------------------------------------------------------------------


def test_entries_stay_readable_after_their_document_is_deleted(alice, alice_record, dr_martin):
    document = DocumentFactory(record=alice_record, title=LAB_REPORT)
    _lab_read(alice_record, dr_martin, resource_uuid=document.uuid)
    Document.objects.filter(pk=document.pk).delete()
    sentences = _sentences(alice, alice_record)
    assert f"Dr Claire Martin, general practitioner, opened your document “{LAB_REPORT}”, " in sentences[0]


# --- REST API ---------------------------------------------------------------------------------


def test_api_lists_entries_with_sentence_and_fields(as_user, alice, alice_record, dr_martin):
    event = _lab_read(alice_record, dr_martin, basis="break_glass", reason_code="break_glass")
    response = as_user(alice).get(f"/api/v1/records/{alice_record.uuid}/access-history/", headers=EN)
    assert response.status_code == 200
    entry = next(e for e in response.json()["results"] if e["id"] == str(event.uuid))
    assert entry["sentence"].startswith("Dr Claire Martin, general practitioner, opened your document")
    assert entry["actor"] == {
        "id": str(dr_martin.uuid),
        "label": "Dr Claire Martin",
        "role": "professional",
        "profession": "General practitioner",
    }
    assert entry["resource"] == {"type": "document", "id": str(event.resource_uuid), "label": LAB_REPORT}
    assert (entry["basis"], entry["action"], entry["outcome"]) == ("break_glass", "document.read", "allowed")
    assert (entry["first_access"], entry["emergency"], entry["on_behalf_of"]) == (True, True, None)


def test_api_refuses_a_stranger_with_404(as_user, charlie, alice_record):
    response = as_user(charlie).get(f"/api/v1/records/{alice_record.uuid}/access-history/")
    assert response.status_code == 404


def test_api_reading_is_journaled(as_user, alice, alice_record):
    as_user(alice).get(f"/api/v1/records/{alice_record.uuid}/access-history/")
    entry = AccessEvent.objects.order_by("-seq").first()
    assert (entry.actor_uuid, entry.record_uuid, entry.action) == (alice.uuid, alice_record.uuid, "journal.read")


def test_api_filters_and_pages_with_a_cursor(as_user, alice, alice_record, dr_martin):
    journal_append(_rows(alice_record, [dr_martin], 150))
    client = as_user(alice)
    url = f"/api/v1/records/{alice_record.uuid}/access-history/"
    first = client.get(url, {"actor_kind": "professional"}).json()
    assert len(first["results"]) == 100
    second = client.get(url, {"actor_kind": "professional", "before": first["next"]}).json()
    assert len(second["results"]) == 50
    assert second["next"] is None


def test_api_rejects_a_bad_filter_with_a_clear_error(as_user, alice, alice_record):
    response = as_user(alice).get(f"/api/v1/records/{alice_record.uuid}/access-history/", {"date_from": "soon"})
    assert response.status_code == 400
    assert "date_from" in response.json()


def test_api_endpoint_is_described_in_the_schema(client, db):
    response = client.get("/api/schema/", {"format": "json"})
    assert "/api/v1/records/{record_uuid}/access-history/" in response.json()["paths"]
