"""The unscoped query is loud: documents, facts and the journal are reached only where they may be.

Rule 1 of DESIGN.md ("one door") by construction: a view, API, template tag, task,
management command or other app that imports `Document`, `ClinicalFact` or a journal model,
reaches their managers or walks a reverse relation to them, bypasses the selectors that
scope every listing to what the policy lets the actor see. Every module of apps/ and
healthspace/ is read (lazy imports inside functions included; migrations left out).
Templates are not read: they cannot query; what they print comes from a view, which is read.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from tests.architecture.model_access import allowed, journal_models, touches
from tests.architecture.scan import python_modules

JOURNAL = journal_models()  # AccessEvent and every Journal* model, new ones included
DOCUMENTS_AND_FACTS = {"Document", "ClinicalFact"}

# Where the protected models may be touched, and why.
ALLOWED: dict[str, tuple[set[str], str]] = {
    # Each app's models module defines (and relates) its own models.
    "apps/records/models.py": ({"Document"}, "defines Document"),
    "apps/clinical/models.py": ({"ClinicalFact"}, "defines ClinicalFact"),
    "apps/access/models.py": (JOURNAL, "defines the journal"),
    # The selectors: the only listings, each scoped to what the policy lets the actor see.
    "apps/records/selectors.py": ({"Document"}, "documents_visible_to and the record's own lookups"),
    "apps/clinical/selectors.py": ({"ClinicalFact"}, "facts_visible_to"),
    # The owning app's services: the functions that change these rows.
    "apps/records/services.py": ({"Document"}, "records' services change documents"),
    "apps/records/documents.py": (
        DOCUMENTS_AND_FACTS,
        "document services and, until it moves to apps/intake, the pipeline that files facts",
    ),
    "apps/clinical/services.py": ({"ClinicalFact"}, "clinical's services change facts"),
    # The intake pipeline files what comes in (uploads, imports, their tasks): no listing for anyone.
    "apps/intake/": (DOCUMENTS_AND_FACTS, "the intake pipeline writes documents and their facts"),
    # The journal's own modules: writing, chaining, checkpointing, verifying, reading it back.
    "apps/access/journal.py": (JOURNAL, "appends to the journal"),
    "apps/access/journal_keys.py": (JOURNAL, "the journal's keys"),
    "apps/access/checkpoints.py": (JOURNAL, "signed checkpoints of the chain heads"),
    "apps/access/verification.py": (JOURNAL, "verifies the chains"),
    "apps/access/history/export.py": (JOURNAL, "a record's chain and checkpoint proof for the patient"),
    "apps/access/history/services.py": (JOURNAL, "the patient's reading of their journal, scoped to a record"),
    "apps/access/partitions.py": (JOURNAL, "creates the journal's monthly partitions on PostgreSQL"),
}

# Offenders known when this test was written (issue 12). Others are removing them now; the
# list can only shrink: the test fails on an offender not listed here AND on a listed entry
# that is no longer an offender. (module, model): who removes it / where it should go.
KNOWN_OFFENDERS: dict[tuple[str, str], str] = {
    # Not listings: document_api's ModelSerializers name the models (Meta.model); every row they print comes from
    # documents.document_get_for, documents_timeline or facts_visible_to. Left: plain Serializers, and
    # DocumentDetailSerializer.facts (DRF reads document.facts, unseen here) to facts_of_document.
    ("apps/records/document_api.py", "ClinicalFact"): "ModelSerializer Meta.model",
    ("apps/records/document_api.py", "Document"): "ModelSerializer Meta.model",
}


def offenders() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in python_modules():
        for touch in touches(path):
            if not allowed(touch.path, touch.model, ALLOWED):
                found[(touch.path, touch.model)].append(str(touch))
    return found


def test_no_module_touches_documents_facts_or_the_journal_outside_the_allowed_ones():
    new = {key: lines for key, lines in offenders().items() if key not in KNOWN_OFFENDERS}
    assert not new, "Unscoped access to a protected model (go through a selector):\n" + "\n".join(
        line for lines in new.values() for line in lines
    )


def test_known_offenders_list_only_shrinks():
    current = offenders()
    gone = [key for key in KNOWN_OFFENDERS if key not in current]
    assert not gone, f"No longer offenders: remove them from KNOWN_OFFENDERS: {gone}"


def test_every_allowed_place_exists():
    root = Path(__file__).resolve().parents[2]
    missing = [place for place in ALLOWED if not (root / place).exists()]
    assert not missing, f"ALLOWED names places that are gone: {missing}"


def _touches_of(tmp_path: Path, source: str) -> set[tuple[str, str]]:
    module = tmp_path / "views.py"
    module.write_text(source)
    return {(touch.model, touch.how) for touch in touches(module)}


def test_a_lazy_import_inside_a_function_is_a_touch(tmp_path):
    source = "def view():\n    from apps.records.models import Document\n    Document.objects.all()\n"
    found = _touches_of(tmp_path, source)
    assert found == {("Document", "imports"), ("Document", "queries .objects of")}


def test_a_model_named_through_its_models_module_is_a_touch(tmp_path):
    found = _touches_of(tmp_path, "from apps.clinical import models as m\nm.ClinicalFact._default_manager.all()\n")
    assert ("ClinicalFact", "names") in found


def test_the_app_registry_lookup_is_a_touch(tmp_path):
    found = _touches_of(tmp_path, "from django.apps import apps\napps.get_model('records', 'Document')\n")
    assert found == {("Document", "get_model")}


def test_a_reverse_relation_listing_is_a_touch(tmp_path):
    found = _touches_of(tmp_path, "def view(record):\n    return record.documents.filter(kind='pdf')\n")
    assert found == {("Document", "queries .documents.filter() of")}


def test_a_type_checking_import_is_not_a_touch(tmp_path):
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from apps.access.models import AccessEvent\n"
    assert _touches_of(tmp_path, source) == set()


def test_a_new_journal_model_is_protected_without_listing_it():
    assert {"AccessEvent"} < JOURNAL
