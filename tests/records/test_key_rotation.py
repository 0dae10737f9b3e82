"""Key rotation end to end: documents stay readable, content bytes unchanged, old key removable."""

from __future__ import annotations

import os

from django.core.files.storage import default_storage
from django.core.management import call_command

from apps.records import crypto, documents
from tests.records.conftest import pdf_bytes


def _key() -> bytes:
    return os.urandom(32)


def test_rotation_rewraps_without_reencrypting_and_the_old_key_can_go(run_tasks, alice, alice_record, settings, capsys):
    old, new = _key(), _key()
    settings.DOCUMENT_MASTER_KEYS = {"k1": old}
    settings.DOCUMENT_ACTIVE_KEY_ID = "k1"
    data = pdf_bytes()
    document = run_tasks(
        documents.document_upload, actor=alice, record=alice_record, filename="a.pdf", data=data
    ).document
    document.refresh_from_db()
    with default_storage.open(document.blob_name) as handle:
        before = handle.read()

    settings.DOCUMENT_MASTER_KEYS = {"k2": new, "k1": old}
    settings.DOCUMENT_ACTIVE_KEY_ID = "k2"
    call_command("rewrap_document_keys", "--dry-run")
    assert "would re-wrap 2 blob(s)" in capsys.readouterr().out  # the content and its preview
    call_command("rewrap_document_keys")
    with default_storage.open(document.blob_name) as handle:
        after = handle.read()
    assert crypto.blob_key_id(blob=after) == "k2"
    assert after[-len(data) :] == before[-len(data) :]  # the ciphertext itself is untouched

    settings.DOCUMENT_MASTER_KEYS = {"k2": new}
    _doc, content = documents.document_content(actor=alice, document_uuid=document.uuid)
    assert content == data
    call_command("rewrap_document_keys")
    assert "re-wrapped 0 blob(s); 2 already" in capsys.readouterr().out
