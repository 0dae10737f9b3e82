"""Encryption at rest for document content (DESIGN.md rule 6).

Each file gets its own random 256-bit data key. The content is sealed with
AES-256-GCM under that data key; the data key is wrapped (RFC 3394 AES key
wrap) by a master key from configuration: ``DOCUMENT_MASTER_KEYS`` (key id ->
32 raw bytes) and ``DOCUMENT_ACTIVE_KEY_ID`` (see healthspace/settings.py).

Envelope (version 1), all the blob needs besides the configured master keys::

    offset      size  field
    0           4     magic b"HSDE" (healthspace document envelope)
    4           1     version = 1
    5           1     n = length of the master key id
    6           n     master key id (ASCII)
    6+n         1     w = length of the wrapped data key (40 in version 1)
    7+n         w     data key wrapped by that master key (RFC 3394)
    7+n+w       12    GCM nonce
    19+n+w      rest  AES-256-GCM ciphertext followed by its 16-byte tag

The GCM associated data is ``magic || version || associated_id`` (UTF-8), so a
blob only opens for the identifier it was sealed for (e.g. the document's
UUID): a blob swapped between two documents fails to decrypt. The key id and
wrapped key are not in the associated data on purpose: rewrapping changes them
while the ciphertext stays byte-for-byte the same. They are still protected:
a changed key id selects a missing or wrong master key, and a changed wrapped
key fails the key wrap's own integrity check.

Content is sealed in one piece, in memory; AES-GCM in ``cryptography`` takes up
to 2**31 - 1 bytes, far above any document we accept.

Rotating the master key
-----------------------
1. Generate a new key (``base64.b64encode(os.urandom(32))``) and put it FIRST in
   ``DOCUMENT_MASTER_KEYS``, keeping the old one after it:
   ``k2:<new>,k1:<old>``. Deploy: new content is wrapped under k2, old content
   still opens with k1.
2. Rewrap every stored blob: ``store(rewrap(blob=read(name)))`` for each name
   (``blob_key_id`` tells which are already under the active key). Only the
   40-byte wrapped key changes; the content is not re-encrypted.
3. When no blob is left under k1, remove k1 from ``DOCUMENT_MASTER_KEYS`` and
   deploy. A blob still under k1 would then raise ``UnknownMasterKeyError``.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import Storage

MAGIC = b"HSDE"
VERSION = 1
DATA_KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's native nonce size
TAG_BYTES = 16
WRAPPED_KEY_BYTES = DATA_KEY_BYTES + 8  # RFC 3394 adds one 64-bit integrity block


class ContentIntegrityError(Exception):
    """The blob cannot be opened: damaged, tampered with, or sealed for another identifier."""


class UnknownMasterKeyError(ContentIntegrityError):
    """The blob's master key id is not (or no longer) in DOCUMENT_MASTER_KEYS."""


def _master_keys() -> dict[str, bytes]:
    # Read at call time so a settings change (or a test override) applies at once.
    keys = getattr(settings, "DOCUMENT_MASTER_KEYS", None)
    if not keys:
        raise ImproperlyConfigured("DOCUMENT_MASTER_KEYS is empty: document content cannot be encrypted or read.")
    return keys


def _active_key() -> tuple[str, bytes]:
    keys = _master_keys()
    key_id = settings.DOCUMENT_ACTIVE_KEY_ID
    key = keys.get(key_id)
    if key is None:
        raise ImproperlyConfigured(f"DOCUMENT_ACTIVE_KEY_ID {key_id!r} is not in DOCUMENT_MASTER_KEYS.")
    _check_master_key(key_id=key_id, key=key)
    return key_id, key


def _check_master_key(*, key_id: str, key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != DATA_KEY_BYTES:
        raise ImproperlyConfigured(f"DOCUMENT_MASTER_KEYS[{key_id!r}] must be {DATA_KEY_BYTES} raw bytes.")


def _associated_data(*, associated_id: str) -> bytes:
    # An empty id would bind nothing: every caller must name what it seals.
    if not associated_id:
        raise ValueError("associated_id must name what the content belongs to (e.g. the document's UUID).")
    return MAGIC + bytes([VERSION]) + associated_id.encode("utf-8")


def _pack(*, key_id: str, wrapped_key: bytes, sealed: bytes) -> bytes:
    encoded_id = key_id.encode("ascii")
    if not 1 <= len(encoded_id) <= 255:
        raise ImproperlyConfigured(f"Master key id {key_id!r} must be 1-255 ASCII characters.")
    return b"".join(
        [MAGIC, bytes([VERSION, len(encoded_id)]), encoded_id, bytes([len(wrapped_key)]), wrapped_key, sealed]
    )


def _unpack(*, blob: bytes) -> tuple[str, bytes, bytes]:
    """Split a blob into (key id, wrapped key, nonce || ciphertext || tag), strictly."""
    view = memoryview(blob)
    if len(view) < len(MAGIC) + 2 or bytes(view[: len(MAGIC)]) != MAGIC:
        raise ContentIntegrityError("Not an encrypted document blob (bad magic).")
    at = len(MAGIC)
    if view[at] != VERSION:
        raise ContentIntegrityError(f"Unsupported envelope version {view[at]}.")
    id_length = view[at + 1]
    at += 2
    raw_id = bytes(view[at : at + id_length])
    at += id_length
    if id_length == 0 or len(raw_id) != id_length or at >= len(view):
        raise ContentIntegrityError("Truncated or damaged envelope header.")
    try:
        key_id = raw_id.decode("ascii")
    except UnicodeDecodeError:
        raise ContentIntegrityError("Damaged envelope header (key id).") from None
    wrapped_length = view[at]
    at += 1
    # Version 1 always wraps a 32-byte key: any other length is damage.
    if wrapped_length != WRAPPED_KEY_BYTES:
        raise ContentIntegrityError("Damaged envelope header (wrapped key length).")
    wrapped_key = bytes(view[at : at + wrapped_length])
    at += wrapped_length
    sealed = bytes(view[at:])
    if len(wrapped_key) != wrapped_length or len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise ContentIntegrityError("Truncated envelope.")
    return key_id, wrapped_key, sealed


def _unwrap(*, key_id: str, wrapped_key: bytes) -> bytes:
    key = _master_keys().get(key_id)
    if key is None:
        raise UnknownMasterKeyError(
            f"Content was encrypted under master key {key_id!r}, which is not in DOCUMENT_MASTER_KEYS "
            "(removed before every blob was rewrapped?)."
        )
    _check_master_key(key_id=key_id, key=key)
    try:
        data_key = aes_key_unwrap(key, wrapped_key)
    except InvalidUnwrap:
        raise ContentIntegrityError(f"The data key does not unwrap under master key {key_id!r}: tampered.") from None
    if len(data_key) != DATA_KEY_BYTES:
        raise ContentIntegrityError("Unwrapped data key has the wrong length.")
    return data_key


def encrypt(*, plaintext: bytes, associated_id: str) -> bytes:
    """Seal ``plaintext`` for ``associated_id`` under a fresh data key wrapped by the active master key."""
    aad = _associated_data(associated_id=associated_id)
    key_id, master_key = _active_key()
    # A fresh key per file means a random nonce is never reused under one key.
    data_key = AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(nonce, bytes(plaintext), aad)
    return _pack(key_id=key_id, wrapped_key=aes_key_wrap(master_key, data_key), sealed=nonce + ciphertext)


def decrypt(*, blob: bytes, associated_id: str) -> bytes:
    """Open a blob sealed for ``associated_id``; all or nothing, never partial plaintext."""
    aad = _associated_data(associated_id=associated_id)
    key_id, wrapped_key, sealed = _unpack(blob=blob)
    data_key = _unwrap(key_id=key_id, wrapped_key=wrapped_key)
    try:
        # GCM checks the tag before returning anything.
        return AESGCM(data_key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except InvalidTag:
        raise ContentIntegrityError(
            "Document content failed its integrity check: tampered, or not sealed for this identifier."
        ) from None


def rewrap(*, blob: bytes) -> bytes:
    """Wrap the blob's data key under the active master key; the ciphertext is left byte-for-byte as is.

    Needs no associated id: the content is never opened. Only the key wrap's
    own integrity is checked here; the content's is checked on ``decrypt``.
    """
    key_id, wrapped_key, sealed = _unpack(blob=blob)
    data_key = _unwrap(key_id=key_id, wrapped_key=wrapped_key)
    active_id, active_key = _active_key()
    return _pack(key_id=active_id, wrapped_key=aes_key_wrap(active_key, data_key), sealed=sealed)


def blob_key_id(*, blob: bytes) -> str:
    """The master key id a blob is wrapped under (to find blobs still needing a rewrap)."""
    return _unpack(blob=blob)[0]


def store_encrypted(*, storage: Storage, name: str, plaintext: bytes, associated_id: str) -> str:
    """Encrypt and save through ``storage``; returns the name the storage actually used."""
    # Only the sealed blob ever reaches the storage backend (disk or S3).
    return storage.save(name, ContentFile(encrypt(plaintext=plaintext, associated_id=associated_id)))


def read_decrypted(*, storage: Storage, name: str, associated_id: str) -> bytes:
    """Read ``name`` from ``storage`` and decrypt it for ``associated_id``."""
    with storage.open(name, "rb") as handle:
        blob = handle.read()
    return decrypt(blob=blob, associated_id=associated_id)
