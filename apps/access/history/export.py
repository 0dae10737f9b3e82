"""A patient's own copy of their record's journal chain, with the proof from the last checkpoint.

The file is checked offline by ``apps/access/journal_offline.py`` (no database, no Django): the
SHA-256 links from the first entry, the chain's head at the last signed checkpoint, the Merkle
path from that head to the signed root, and the Ed25519 signature.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.utils import timezone

from apps.access.checkpoints import CheckpointInvalid, chain_proof, latest_checkpoint
from apps.access.door import get_for
from apps.access.history.services import documents_hidden_from
from apps.access.journal_offline import PROOF_FORMAT
from apps.access.models import AccessEvent, chain_for
from apps.access.policy import Action

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.records.models import Record


def journal_proof(record_uuid: UUID, *, withheld_documents: Collection[UUID] = ()) -> dict[str, Any]:
    """The record's chain, oldest first, each entry as the exact values its hash covers.

    An entry naming one of ``withheld_documents`` (documents the reader may not see) is given as
    its place in the chain only (number, link and hash, ``"redacted": true``): blanking its title
    would break its hash, and its hash still links the chain, so the file verifies without it.
    """
    chain = chain_for(record_uuid)
    withheld = {str(uuid) for uuid in withheld_documents}
    entries = [
        _redacted(event)
        if event.resource_type == "document" and str(event.resource_uuid) in withheld
        # The entry as its hash covers it, the hash beside it.
        else {**json.loads(event.canonical()), "hash": event.hash}
        for event in AccessEvent.objects.filter(chain=chain).order_by("chain_seq").iterator(chunk_size=2000)
    ]
    try:
        checkpoint = latest_checkpoint()
    except (CheckpointInvalid, OSError, ValueError):
        checkpoint = None  # the patient's check then says no checkpoint covers the file
    return {
        "format": PROOF_FORMAT,
        "chain": chain,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "entries": entries,
        "checkpoint": chain_proof(checkpoint, chain) if checkpoint is not None else None,
        "how_to_verify": "python journal_offline.py this-file.json (apps/access/journal_offline.py in healthspace)",
    }


def _redacted(event: AccessEvent) -> dict[str, Any]:
    return {
        "chain": event.chain,
        "chain_seq": event.chain_seq,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "redacted": True,
    }


def journal_proof_get_for(*, actor: User, record_uuid: object) -> tuple[Record, dict[str, Any]]:
    """Through the policy (journal.read, journaled); missing and forbidden are the same 404.

    The file is the reader's: entries naming a document they may not see now (a parent, for a
    child's confidential care) keep their place in the chain but not their content."""
    from apps.records.models import Record

    record, _decision = get_for(actor, Record, record_uuid, Action.JOURNAL_READ)
    named = {
        uuid
        for uuid in AccessEvent.objects.filter(chain=chain_for(record.uuid), resource_type="document")
        .values_list("resource_uuid", flat=True)
        .distinct()
        if uuid is not None
    }
    hidden = documents_hidden_from(reader=actor, record=record, named=named)
    return record, journal_proof(record.uuid, withheld_documents=hidden)
