"""Signed checkpoints of the access journal, written outside the database.

A checkpoint is the head (chain, number, hash) of every chain, Merkle-rooted (leaves sorted by
chain) and signed with Ed25519. It is a JSON file in the checkpoint storage
(settings.JOURNAL_CHECKPOINT_STORAGE: a folder by default, object storage in production, ideally
write-once and in another account than the database's). Whoever can rewrite the database cannot
rewrite what a checkpoint already holds: truncating or recomputing a chain shows against it.
The JournalCheckpoint rows only index the files; the file is the truth.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.utils import timezone

from apps.access.journal_keys import public_key_b64, signing_key
from apps.access.journal_offline import (
    CHECKPOINT_FORMAT,
    merkle_leaf,
    merkle_path,
    merkle_root,
    signature_is_valid,
    signed_bytes,
)
from apps.access.models import JournalChainHead, JournalCheckpoint

PREFIX = "checkpoint-"


def checkpoint_storage() -> Storage:
    return storages[settings.JOURNAL_CHECKPOINT_STORAGE]


@dataclass(frozen=True)
class Checkpoint:
    name: str
    data: dict[str, Any]

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.data["created_at"])

    @property
    def heads(self) -> dict[str, tuple[int, str]]:
        return {chain: (seq, head_hash) for chain, seq, head_hash in self.data["chains"]}


def _leaves(chains: list[list[Any]]) -> list[bytes]:
    return [merkle_leaf(chain, seq, head_hash) for chain, seq, head_hash in chains]


def write_checkpoint() -> Checkpoint:
    """Sign the current head of every chain and store the file (and its index row)."""
    created_at = timezone.now()
    chains = [
        [chain, seq, last_hash]
        for chain, seq, last_hash in JournalChainHead.objects.filter(seq__gt=0)
        .order_by("chain")
        .values_list("chain", "seq", "last_hash")
        .iterator(chunk_size=5000)
    ]
    data: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "created_at": created_at.isoformat(timespec="microseconds"),
        "root": merkle_root(_leaves(chains)),
        "size": len(chains),
    }
    data["public_key"] = public_key_b64()
    data["signature"] = base64.b64encode(signing_key().sign(signed_bytes(data))).decode("ascii")
    data["chains"] = chains
    name = f"{PREFIX}{created_at.strftime('%Y%m%dT%H%M%S%fZ')}.json"
    stored = checkpoint_storage().save(name, ContentFile(json.dumps(data, separators=(",", ":")).encode()))
    JournalCheckpoint.objects.create(name=stored, created_at=created_at, root=data["root"], chains=len(chains))
    return Checkpoint(stored, data)


class CheckpointInvalid(Exception):
    pass


def read_checkpoint(name: str) -> Checkpoint:
    """A stored checkpoint, its signature and root checked (CheckpointInvalid otherwise)."""
    with checkpoint_storage().open(name, "rb") as handle:
        data = json.loads(handle.read())
    if data.get("public_key") != public_key_b64() or not signature_is_valid(data):
        raise CheckpointInvalid(f"checkpoint {name}: its signature does not verify with the journal's key")
    if merkle_root(_leaves(data["chains"])) != data["root"] or len(data["chains"]) != data["size"]:
        raise CheckpointInvalid(f"checkpoint {name}: its chains do not match its signed root")
    return Checkpoint(name, data)


def checkpoint_names() -> list[str]:
    """The stored checkpoints, oldest first (their names sort by time)."""
    try:
        _folders, files = checkpoint_storage().listdir("")
    except FileNotFoundError:  # the folder appears with the first checkpoint
        return []
    return sorted(name for name in files if name.startswith(PREFIX) and name.endswith(".json"))


def latest_checkpoint() -> Checkpoint | None:
    """The newest stored checkpoint; one the index knows of but the storage lost is an error."""
    names = checkpoint_names()
    indexed = JournalCheckpoint.objects.order_by("-created_at").values_list("name", flat=True).first()
    if indexed is not None and indexed not in names and (not names or indexed > names[-1]):
        raise CheckpointInvalid(f"checkpoint {indexed} is in the index but missing from the checkpoint storage")
    return read_checkpoint(names[-1]) if names else None


def chain_proof(checkpoint: Checkpoint, chain: str) -> dict[str, Any] | None:
    """The part of a checkpoint that proves one chain's head: head, Merkle path, root, signature."""
    chains = checkpoint.data["chains"]
    index = next((i for i, row in enumerate(chains) if row[0] == chain), None)
    if index is None:
        return None
    _chain, seq, head_hash = chains[index]
    return {
        **{key: checkpoint.data[key] for key in ("format", "created_at", "root", "size", "public_key", "signature")},
        "head": {"seq": seq, "hash": head_hash},
        "path": merkle_path(_leaves(chains), index),
    }
