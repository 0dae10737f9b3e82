"""Document content is encrypted at rest (DESIGN.md rule 6)."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage

from apps.records.crypto import (
    MAGIC,
    NONCE_BYTES,
    TAG_BYTES,
    WRAPPED_KEY_BYTES,
    ContentIntegrityError,
    UnknownMasterKeyError,
    blob_key_id,
    decrypt,
    encrypt,
    read_decrypted,
    rewrap,
    store_encrypted,
)
from healthspace.env import env_key_ring
from tests.startup import run_django

PROJECT_DIR = Path(__file__).resolve().parents[2]
DOC_ID = "0b6f3c7e-3d0a-4a53-9a43-3f4f1f6f2a10"
OTHER_DOC_ID = "7d1c2b9a-5e44-4c1b-8b0e-0d3b8c1f9e21"
PLAINTEXT = b"%PDF-1.7 Compte rendu: glycemie a jeun 0.92 g/L, patient Alice Martin"
K1 = bytes(range(32))
K2 = bytes(range(100, 132))


@pytest.fixture(autouse=True)
def _k1_active(settings):
    settings.DOCUMENT_MASTER_KEYS = {"k1": K1}
    settings.DOCUMENT_ACTIVE_KEY_ID = "k1"


def _header_length(key_id: str) -> int:
    return len(MAGIC) + 2 + len(key_id)


def _split(blob: bytes, key_id: str) -> tuple[bytes, bytes, bytes]:
    """(header up to the wrapped key length byte, wrapped key, nonce + ciphertext + tag)."""
    start = _header_length(key_id) + 1
    return blob[:start], blob[start : start + WRAPPED_KEY_BYTES], blob[start + WRAPPED_KEY_BYTES :]


def _flip(blob: bytes, index: int) -> bytes:
    return blob[:index] + bytes([blob[index] ^ 0x01]) + blob[index + 1 :]


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


# --- Encrypt and decrypt -----------------------------------------------------------------


def test_content_round_trips():
    assert decrypt(blob=encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID), associated_id=DOC_ID) == PLAINTEXT


def test_empty_content_round_trips():
    assert decrypt(blob=encrypt(plaintext=b"", associated_id=DOC_ID), associated_id=DOC_ID) == b""


def test_large_content_round_trips():
    content = os.urandom(5 * 1024 * 1024)

    assert decrypt(blob=encrypt(plaintext=content, associated_id=DOC_ID), associated_id=DOC_ID) == content


def test_blob_does_not_contain_the_plaintext():
    blob = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)

    assert PLAINTEXT not in blob
    assert b"Alice Martin" not in blob
    assert b"glycemie" not in blob


def test_blob_starts_with_the_envelope_header_and_names_the_key():
    blob = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)

    assert blob.startswith(MAGIC + bytes([1, 2]) + b"k1" + bytes([WRAPPED_KEY_BYTES]))
    assert blob_key_id(blob=blob) == "k1"
    assert len(blob) == _header_length("k1") + 1 + WRAPPED_KEY_BYTES + NONCE_BYTES + len(PLAINTEXT) + TAG_BYTES


def test_each_encryption_uses_a_fresh_data_key_and_nonce():
    first = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)
    second = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)
    _, first_key, first_sealed = _split(first, "k1")
    _, second_key, second_sealed = _split(second, "k1")

    assert first != second
    assert first_key != second_key
    assert first_sealed[:NONCE_BYTES] != second_sealed[:NONCE_BYTES]
    assert first_sealed[NONCE_BYTES:] != second_sealed[NONCE_BYTES:]


def test_an_empty_associated_id_is_refused():
    with pytest.raises(ValueError, match="associated_id"):
        encrypt(plaintext=PLAINTEXT, associated_id="")


# --- Tampering ----------------------------------------------------------------------------


def test_tampering_any_byte_of_the_ciphertext_is_refused():
    blob = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)
    start = len(blob) - len(PLAINTEXT) - TAG_BYTES

    for index in range(start, len(blob)):
        with pytest.raises(ContentIntegrityError):
            decrypt(blob=_flip(blob, index), associated_id=DOC_ID)


def test_tampering_any_byte_of_the_nonce_is_refused():
    blob = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)
    start = _header_length("k1") + 1 + WRAPPED_KEY_BYTES

    for index in range(start, start + NONCE_BYTES):
        with pytest.raises(ContentIntegrityError):
            decrypt(blob=_flip(blob, index), associated_id=DOC_ID)


def test_tampering_any_byte_of_the_wrapped_key_is_refused():
    blob = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)
    start = _header_length("k1") + 1

    for index in range(start, start + WRAPPED_KEY_BYTES):
        with pytest.raises(ContentIntegrityError):
            decrypt(blob=_flip(blob, index), associated_id=DOC_ID)


def test_tampering_any_byte_of_the_header_is_refused(settings):
    # "k0" is configured too, so a key id flipped from "k1" finds a real but wrong key.
    settings.DOCUMENT_MASTER_KEYS = {"k1": K1, "k0": K2}
    blob = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)

    for index in range(_header_length("k1") + 1):
        with pytest.raises(ContentIntegrityError):
            decrypt(blob=_flip(blob, index), associated_id=DOC_ID)


def test_a_truncated_blob_is_refused():
    blob = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)

    for length in range(len(blob)):
        with pytest.raises(ContentIntegrityError):
            decrypt(blob=blob[:length], associated_id=DOC_ID)


def test_a_blob_with_bytes_appended_is_refused():
    blob = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)

    with pytest.raises(ContentIntegrityError):
        decrypt(blob=blob + b"\x00", associated_id=DOC_ID)


def test_a_blob_opened_for_another_document_is_refused():
    blob = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)

    with pytest.raises(ContentIntegrityError, match="integrity"):
        decrypt(blob=blob, associated_id=OTHER_DOC_ID)


# --- Key rotation -------------------------------------------------------------------------


def test_rewrap_moves_the_blob_to_the_active_key_without_reencrypting(settings):
    blob = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)
    settings.DOCUMENT_MASTER_KEYS = {"k2": K2, "k1": K1}
    settings.DOCUMENT_ACTIVE_KEY_ID = "k2"

    rewrapped = rewrap(blob=blob)

    assert blob_key_id(blob=rewrapped) == "k2"
    assert _split(rewrapped, "k2")[2] == _split(blob, "k1")[2]
    assert _split(rewrapped, "k2")[1] != _split(blob, "k1")[1]
    assert decrypt(blob=rewrapped, associated_id=DOC_ID) == PLAINTEXT


def test_a_rewrapped_blob_still_decrypts_once_the_old_key_is_dropped(settings):
    blob = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)
    settings.DOCUMENT_MASTER_KEYS = {"k2": K2, "k1": K1}
    settings.DOCUMENT_ACTIVE_KEY_ID = "k2"
    rewrapped = rewrap(blob=blob)

    settings.DOCUMENT_MASTER_KEYS = {"k2": K2}

    assert decrypt(blob=rewrapped, associated_id=DOC_ID) == PLAINTEXT


def test_rewrap_under_the_same_key_keeps_the_blob_readable():
    blob = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)

    assert decrypt(blob=rewrap(blob=blob), associated_id=DOC_ID) == PLAINTEXT


def test_rewrap_refuses_a_tampered_wrapped_key():
    blob = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)

    with pytest.raises(ContentIntegrityError):
        rewrap(blob=_flip(blob, _header_length("k1") + 1))


def test_a_blob_under_a_removed_key_raises_a_clear_error(settings):
    blob = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)
    settings.DOCUMENT_MASTER_KEYS = {"k2": K2}
    settings.DOCUMENT_ACTIVE_KEY_ID = "k2"

    with pytest.raises(UnknownMasterKeyError, match=r"'k1'.*DOCUMENT_MASTER_KEYS"):
        decrypt(blob=blob, associated_id=DOC_ID)


def test_a_blob_under_a_key_replaced_by_another_value_is_refused(settings):
    blob = encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)
    settings.DOCUMENT_MASTER_KEYS = {"k1": K2}

    with pytest.raises(ContentIntegrityError, match="'k1'"):
        decrypt(blob=blob, associated_id=DOC_ID)


def test_an_active_key_id_missing_from_the_keys_stops_encryption(settings):
    settings.DOCUMENT_ACTIVE_KEY_ID = "k9"

    with pytest.raises(ImproperlyConfigured, match="DOCUMENT_ACTIVE_KEY_ID"):
        encrypt(plaintext=PLAINTEXT, associated_id=DOC_ID)


# --- Storage helpers ----------------------------------------------------------------------


def test_store_encrypted_writes_only_ciphertext_to_disk(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    storage = FileSystemStorage(location=tmp_path)

    name = store_encrypted(storage=storage, name="documents/report.pdf", plaintext=PLAINTEXT, associated_id=DOC_ID)

    raw = (tmp_path / name).read_bytes()
    assert raw.startswith(MAGIC)
    assert PLAINTEXT not in raw
    assert b"Alice Martin" not in raw


def test_read_decrypted_returns_the_stored_content(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    storage = FileSystemStorage(location=tmp_path)
    name = store_encrypted(storage=storage, name="documents/report.pdf", plaintext=PLAINTEXT, associated_id=DOC_ID)

    assert read_decrypted(storage=storage, name=name, associated_id=DOC_ID) == PLAINTEXT


def test_read_decrypted_refuses_a_file_swapped_from_another_document(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    storage = FileSystemStorage(location=tmp_path)
    name = store_encrypted(storage=storage, name="documents/a.pdf", plaintext=PLAINTEXT, associated_id=DOC_ID)

    with pytest.raises(ContentIntegrityError):
        read_decrypted(storage=storage, name=name, associated_id=OTHER_DOC_ID)


# --- DOCUMENT_MASTER_KEYS parsing ---------------------------------------------------------


def test_key_ring_keeps_the_written_order_with_the_active_key_first():
    ring = env_key_ring("DOCUMENT_MASTER_KEYS", {"DOCUMENT_MASTER_KEYS": f"k2:{_b64(K2)}, k1:{_b64(K1)}"})

    assert ring == {"k2": K2, "k1": K1}
    assert next(iter(ring)) == "k2"


def test_key_ring_is_none_when_unset():
    assert env_key_ring("DOCUMENT_MASTER_KEYS", {}) is None


def test_key_ring_rejects_bad_base64():
    with pytest.raises(ImproperlyConfigured, match=r"DOCUMENT_MASTER_KEYS.*'k1'.*base64"):
        env_key_ring("DOCUMENT_MASTER_KEYS", {"DOCUMENT_MASTER_KEYS": "k1:not*base64!"})


def test_key_ring_rejects_a_key_of_the_wrong_length():
    with pytest.raises(ImproperlyConfigured, match=r"DOCUMENT_MASTER_KEYS.*32 bytes, got 16"):
        env_key_ring("DOCUMENT_MASTER_KEYS", {"DOCUMENT_MASTER_KEYS": f"k1:{_b64(K1[:16])}"})


def test_key_ring_rejects_an_empty_key_id():
    with pytest.raises(ImproperlyConfigured, match=r"DOCUMENT_MASTER_KEYS.*empty key id"):
        env_key_ring("DOCUMENT_MASTER_KEYS", {"DOCUMENT_MASTER_KEYS": f":{_b64(K1)}"})


def test_key_ring_rejects_a_duplicate_key_id():
    with pytest.raises(ImproperlyConfigured, match=r"DOCUMENT_MASTER_KEYS.*'k1' twice"):
        env_key_ring("DOCUMENT_MASTER_KEYS", {"DOCUMENT_MASTER_KEYS": f"k1:{_b64(K1)},k1:{_b64(K2)}"})


def test_key_ring_rejects_an_entry_without_a_key_id():
    with pytest.raises(ImproperlyConfigured, match=r"DOCUMENT_MASTER_KEYS.*id:base64key"):
        env_key_ring("DOCUMENT_MASTER_KEYS", {"DOCUMENT_MASTER_KEYS": _b64(K1)})


def test_key_ring_rejects_a_key_id_with_odd_characters():
    with pytest.raises(ImproperlyConfigured, match=r"DOCUMENT_MASTER_KEYS.*key id"):
        env_key_ring("DOCUMENT_MASTER_KEYS", {"DOCUMENT_MASTER_KEYS": f"clé 1:{_b64(K1)}"})


def test_key_ring_errors_never_echo_key_material():
    secret = _b64(K1[:16])

    with pytest.raises(ImproperlyConfigured) as refused:
        env_key_ring("DOCUMENT_MASTER_KEYS", {"DOCUMENT_MASTER_KEYS": f"k1:{secret}"})

    assert secret not in str(refused.value)


# --- Settings at start-up -----------------------------------------------------------------

PRINT_KEYS = (
    "from django.conf import settings as s; "
    "print(s.DOCUMENT_ACTIVE_KEY_ID, len(s.DOCUMENT_MASTER_KEYS[s.DOCUMENT_ACTIVE_KEY_ID]))"
)


def _start(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    return run_django(tmp_path, PRINT_KEYS, **variables)


PRODUCTION = {
    "HEALTHSPACE_ENV": "production",
    "SECRET_KEY": "x" * 50,
    "DATABASE_URL": "postgres://u:p@db/hs",
    "REDIS_URL": "redis://127.0.0.1:9/0",
    "ALLOWED_HOSTS": "health.example.org",
    "JOURNAL_KEYS": "j1:" + "B" * 43 + "=",
    "JOURNAL_SIGNING_KEY": "C" * 43 + "=",
}


def test_embedded_default_uses_a_random_key_generated_into_var(tmp_path):
    result = _start(tmp_path)

    assert result.returncode == 0, result.stderr
    key_id, size = result.stdout.split()
    assert key_id.startswith("embedded-")
    assert size == "32"
    assert (tmp_path / "var" / "secrets" / "document_master_keys").read_text().startswith(key_id + ":")


def test_production_without_document_master_keys_refuses_to_start(tmp_path):
    result = _start(tmp_path, **PRODUCTION)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DOCUMENT_MASTER_KEYS" in result.stderr


def test_production_uses_the_first_configured_key_as_active(tmp_path):
    result = _start(tmp_path, **PRODUCTION, DOCUMENT_MASTER_KEYS=f"k2:{_b64(K2)},k1:{_b64(K1)}")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["k2", "32"]


def test_junk_document_master_keys_refuse_to_start(tmp_path):
    result = _start(tmp_path, DOCUMENT_MASTER_KEYS="k1:tooshort")

    assert result.returncode != 0
    assert "DOCUMENT_MASTER_KEYS" in result.stderr
