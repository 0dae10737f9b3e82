"""seed_bench: the seeded benchmark population (issue 11)."""

from __future__ import annotations

import hashlib
import json
import random
import statistics

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.urls import reverse

from apps.access.journal import journal_verify
from apps.access.models import AccessEvent, JournalChainHead
from apps.access.policy import Action, authorize
from apps.clinical.models import ClinicalFact
from apps.records.models import Document, Record
from bench import population as bench

pytestmark = pytest.mark.django_db


def _seed(tmp_path, *extra: str) -> dict:
    manifest = tmp_path / "population.json"
    call_command("seed_bench", "--scale", "small", "--manifest", str(manifest), *extra)
    return json.loads(manifest.read_text())


def test_small_population_holds_what_the_manifest_says(tmp_path):
    manifest = _seed(tmp_path, "--patients", "12", "--journal-per-document", "3")

    counts = manifest["counts"]
    assert bench.bench_users().filter(role="patient").count() == counts["patients"] == 12 + 2
    assert Document.objects.count() == counts["documents"]
    assert ClinicalFact.objects.count() == counts["facts"]
    assert AccessEvent.objects.count() == counts["journal_rows"]
    for size in ("31", "300"):
        named = manifest["named"][size]
        record = Record.objects.get(uuid=named["record_uuid"], owner_id=named["user_id"])
        assert record.documents.count() == int(size)
        assert record.documents.filter(uuid__in=named["blob_document_uuids"]).exclude(blob_name="").count() == 5
        assert record.care_relationships.filter(professional_id=named["professional_user_id"]).exists()
    assert manifest["password"] == bench.PASSWORD
    assert len(manifest["random_patients"]) == 12


def test_named_patients_have_about_ten_facts_per_document(tmp_path):
    manifest = _seed(tmp_path, "--patients", "0", "--named", "31", "--journal-per-document", "1")

    record = Record.objects.get(uuid=manifest["named"]["31"]["record_uuid"])
    assert record.facts.count() == 310
    kinds = set(record.facts.values_list("kind", flat=True))
    assert {"observation", "condition", "medication"} <= kinds


def test_search_terms_occur_in_the_documents_text(tmp_path):
    manifest = _seed(tmp_path, "--patients", "12", "--journal-per-document", "1")

    terms = manifest["search_terms"]
    assert len(terms) == len(set(terms)) >= 150
    for term in terms[:20]:
        assert Document.objects.filter(extracted_text__contains=term).exists(), term


def test_documents_per_patient_are_log_normal_with_median_eight():
    rng = random.Random(1)
    draws = sorted(bench.documents_for(rng, 1000) for _ in range(20_000))

    assert 7 <= statistics.median(draws) <= 9
    assert 33 <= draws[int(len(draws) * 0.9)] <= 48
    assert max(draws) <= 1000


def test_seeded_patients_documents_have_a_median_of_the_right_order(tmp_path):
    _seed(tmp_path, "--patients", "30", "--named", "", "--journal-per-document", "1")

    per_patient = list(Record.objects.annotate(n=Count("documents")).values_list("n", flat=True))
    assert len(per_patient) == 30
    assert 3 <= statistics.median(per_patient) <= 20


def test_the_journal_chain_is_intact_and_new_decisions_continue_it(tmp_path):
    manifest = _seed(tmp_path, "--patients", "8", "--journal-per-document", "3")
    report = journal_verify()
    assert report.intact, report.problem
    assert report.verified == manifest["counts"]["journal_rows"]
    named = manifest["named"]["31"]
    tip = JournalChainHead.objects.get(chain=named["record_uuid"])
    record = Record.objects.select_related("owner").get(uuid=named["record_uuid"])
    assert authorize(actor=record.owner, record=record, action=Action.RECORD_VIEW).allowed

    newest = AccessEvent.objects.order_by("-seq").first()
    assert (newest.chain_seq, newest.prev_hash) == (tip.seq + 1, tip.last_hash)
    assert journal_verify().intact


def test_the_owner_reads_the_summary_page_and_downloads_a_stored_document(client, tmp_path):
    manifest = _seed(tmp_path, "--patients", "2", "--named", "31", "--journal-per-document", "2")
    named = manifest["named"]["31"]
    record = Record.objects.select_related("owner").get(uuid=named["record_uuid"])
    client.force_login(record.owner)

    page = client.get(reverse("record_detail", args=[record.uuid]))
    assert page.status_code == 200
    assert "Trente-et-un" in page.content.decode()

    document = Document.objects.get(uuid=named["blob_document_uuids"][0])
    download = client.get(reverse("document_content", args=[document.uuid]))
    assert download.status_code == 200
    body = b"".join(download.streaming_content) if download.streaming else download.content
    assert body.startswith(b"%PDF")
    assert hashlib.sha256(body).hexdigest() == document.content_hash


def test_seeded_passwords_log_in(client, tmp_path):
    manifest = _seed(tmp_path, "--patients", "1", "--named", "", "--journal-per-document", "1")
    patient = manifest["random_patients"][0]

    assert client.login(email=patient["email"], password=bench.PASSWORD)


def test_running_again_without_reset_refuses_and_changes_nothing(tmp_path):
    _seed(tmp_path, "--patients", "3", "--named", "", "--journal-per-document", "2")
    before = (Document.objects.count(), AccessEvent.objects.count(), bench.bench_users().count())

    with pytest.raises(CommandError, match="already exists"):
        _seed(tmp_path, "--patients", "3", "--named", "", "--journal-per-document", "2")

    assert (Document.objects.count(), AccessEvent.objects.count(), bench.bench_users().count()) == before


def test_reset_is_refused_on_a_database_not_named_bench(tmp_path):
    _seed(tmp_path, "--patients", "2", "--named", "", "--journal-per-document", "1")
    journal = AccessEvent.objects.count()

    with pytest.raises(CommandError, match="bench"):
        _seed(tmp_path, "--reset", "--patients", "2", "--named", "")

    assert AccessEvent.objects.count() == journal
