"""Check a downloaded access journal offline: no database, no Django, only Python and `cryptography`.

    python journal_offline.py journal.json        (or: python -m apps.access.journal_offline journal.json)

The file (from "Download my journal and its proof" on the access-history page, or the API) holds
the entries of one record's chain, the signed checkpoint's root, signature and public key, and
the Merkle path from the chain's head at that checkpoint to the root. This checks that:
1. each entry's SHA-256 hash matches its content, and each links to the one before (from #1);
   an entry withheld from the reader (``"redacted": true``: it names a document they may not
   see) carries only its number, link and hash: its link is checked, its content cannot be;
2. the chain's head at the checkpoint (number and hash) is among the entries;
3. the Merkle path leads from that head to the checkpoint's root;
4. the root is signed by the public key (compare it with the one the service publishes).
It cannot check the entries' MACs: their key stays with the service.

This module is also the one definition of the formats (entry hash, Merkle tree, signed bytes)
that the service uses, so what the service writes and what this checks cannot drift apart.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from collections.abc import Mapping, Sequence

GENESIS_HASH = "0" * 64
CHECKPOINT_FORMAT = "healthspace-journal-checkpoint/1"
PROOF_FORMAT = "healthspace-journal-proof/1"

# The fields an entry's hash covers. Changing this list breaks every existing chain.
HASHED_FIELDS = (
    "chain",
    "chain_seq",
    "uuid",
    "occurred_at",
    "actor_uuid",
    "actor_label",
    "actor_role",
    "on_behalf_of_uuid",
    "on_behalf_of_label",
    "record_uuid",
    "action",
    "resource_type",
    "resource_uuid",
    "resource_label",
    "basis",
    "purpose",
    "outcome",
    "reason_code",
    "ip",
    "user_agent",
    "prev_hash",
)


def canonical_json(values: Mapping[str, object]) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":")).encode()


def entry_hash(values: Mapping[str, object]) -> str:
    """SHA-256 of the hashed fields (strings and integers, None written as "")."""
    return hashlib.sha256(canonical_json({name: values[name] for name in HASHED_FIELDS})).hexdigest()


# --- Merkle tree over the chain heads (leaves sorted by chain) ---------------------------------


def merkle_leaf(chain: str, seq: int, head_hash: str) -> bytes:
    return hashlib.sha256(b"\x00" + f"{chain}\n{seq}\n{head_hash}".encode()).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> str:
    """The root of the leaves in order; an odd last node goes up a level unchanged."""
    level = list(leaves)
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        level = [_node(level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
    return level[0].hex()


def merkle_path(leaves: Sequence[bytes], index: int) -> list[list[str]]:
    """The siblings from leaf ``index`` up to the root: [["L" or "R", hex], ...]."""
    path: list[list[str]] = []
    level = list(leaves)
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(["L" if sibling < index else "R", level[sibling].hex()])
        level = [_node(level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
        index //= 2
    return path


def root_from_path(leaf: bytes, path: Sequence[Sequence[str]]) -> str:
    node = leaf
    for side, sibling in path:
        node = _node(bytes.fromhex(sibling), node) if side == "L" else _node(node, bytes.fromhex(sibling))
    return node.hex()


def signed_bytes(checkpoint: Mapping[str, object]) -> bytes:
    """What the checkpoint's Ed25519 signature covers."""
    return canonical_json({name: checkpoint[name] for name in ("format", "created_at", "root", "size")})


def signature_is_valid(checkpoint: Mapping[str, object]) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(str(checkpoint["public_key"])))
        key.verify(base64.b64decode(str(checkpoint["signature"])), signed_bytes(checkpoint))
    except (InvalidSignature, ValueError, KeyError):
        return False
    return True


# --- The patient's file -------------------------------------------------------------------------


def _merkle_path(value: object) -> list[list[str]]:
    """A Merkle path as the file writes it, ``[["L" or "R", sibling hex], ...]``; anything else is none."""
    if isinstance(value, list) and all(
        isinstance(step, list) and len(step) == 2 and all(isinstance(part, str) for part in step) for step in value
    ):
        return value
    return []


def check_proof(proof: Mapping[str, object]) -> list[str]:
    """The problems found in a downloaded journal file (empty: it holds)."""
    problems: list[str] = []
    entries = list(proof.get("entries") or [])  # type: ignore[call-overload]
    expected_prev, expected_seq = GENESIS_HASH, 1
    by_seq: dict[int, str] = {}
    for entry in entries:
        seq = entry.get("chain_seq")
        if seq != expected_seq:
            problems.append(f"entry #{expected_seq} is missing (found #{seq} next)")
            break
        if entry.get("prev_hash") != expected_prev:
            problems.append(f"entry #{seq}: its link to the previous entry does not match")
            break
        if entry.get("redacted") is True:
            # Withheld: the next entry's hash covers this one's hash (its prev_hash), so the link holds.
            if not isinstance(entry.get("hash"), str) or len(entry["hash"]) != len(GENESIS_HASH):
                problems.append(f"entry #{seq}: a withheld entry without its hash")
                break
        elif entry_hash(entry) != entry.get("hash"):
            problems.append(f"entry #{seq}: its content does not match its hash (altered)")
            break
        by_seq[seq] = entry["hash"]
        expected_prev, expected_seq = entry["hash"], expected_seq + 1
    checkpoint = proof.get("checkpoint")
    if not checkpoint:
        problems.append("no signed checkpoint covers this journal yet")
        return problems
    # A file is JSON from anywhere: a checkpoint or head that is not an object is a problem, not a crash.
    if not isinstance(checkpoint, Mapping):
        problems.append("the checkpoint cannot be read")
        return problems
    head = checkpoint.get("head") or {}
    if not isinstance(head, Mapping):
        problems.append("the checkpoint's head cannot be read")
        return problems
    head_seq = head.get("seq")
    if not isinstance(head_seq, int):
        head_seq = 0  # entries count from #1: none matches it
    if by_seq.get(head_seq) != head.get("hash"):
        problems.append(f"the checkpoint's head (entry #{head.get('seq')}) is not among the entries")
    leaf = merkle_leaf(str(proof.get("chain")), head_seq, str(head.get("hash")))
    if root_from_path(leaf, _merkle_path(checkpoint.get("path"))) != checkpoint.get("root"):
        problems.append("the Merkle path does not lead to the checkpoint's root")
    if not signature_is_valid(checkpoint):
        problems.append("the checkpoint's signature does not verify with its public key")
    return problems


def main(argv: Sequence[str]) -> int:
    if len(argv) != 2:
        print("usage: python journal_offline.py journal.json", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        proof = json.load(handle)
    problems = check_proof(proof)
    if problems:
        for problem in problems:
            print(f"NOT VERIFIED: {problem}")
        return 1
    checkpoint = proof["checkpoint"]
    withheld = sum(1 for entry in proof["entries"] if entry.get("redacted") is True)
    print(
        f"Verified: {len(proof['entries'])} entries of chain {proof['chain']}, linked from the first "
        f"({withheld} withheld from you: their links checked, not their content); "
        f"entry #{checkpoint['head']['seq']} is in the checkpoint of {checkpoint['created_at']} "
        f"signed by public key {checkpoint['public_key']}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
