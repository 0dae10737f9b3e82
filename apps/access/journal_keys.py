"""The keys of the access journal, from configuration, never from the database.

Entries carry an HMAC-SHA256 of their hash with a journal key (settings.JOURNAL_KEYS, first =
active). A row names its key id, so keys rotate: put the new key first, keep the old ones after
it for as long as rows made with them must verify. Checkpoints are signed with an Ed25519 key
(settings.JOURNAL_SIGNING_KEY); its public half is written in every checkpoint and published.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings


def active_key_id() -> str:
    return next(iter(settings.JOURNAL_KEYS))


def entry_mac(entry_hash: str, key_id: str) -> str:
    """The MAC of an entry's hash with the key ``key_id`` (KeyError when the key is unknown)."""
    return hmac.new(settings.JOURNAL_KEYS[key_id], entry_hash.encode("ascii"), hashlib.sha256).hexdigest()


def mac_is_valid(entry_hash: str, key_id: str, mac: str) -> bool:
    if key_id not in settings.JOURNAL_KEYS:
        return False
    return hmac.compare_digest(entry_mac(entry_hash, key_id), mac)


def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(settings.JOURNAL_SIGNING_KEY))


def public_key_b64() -> str:
    """The raw 32-byte Ed25519 public key, base64: what a patient checks a checkpoint with."""
    raw = signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")
