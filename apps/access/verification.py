"""Checking the access journal: every chain's links and MACs, and every chain head against the
last signed checkpoint. Reads the table: run by the command and a Celery task, never in a request;
the history PDF shows the stored result (JournalVerification).

Incremental by default: the links and MACs of the entries written since the checkpoint the last
intact check was made against (entries are stamped just before they are appended, hence a margin);
``full`` walks every chain from its first entry (weekly, and whenever an incremental run has no
intact predecessor). Both check that the head of every chain in the latest checkpoint is still
there with the same hash: that catches truncation and a chain rewritten and rehashed, which the
plain SHA-256 links alone cannot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Max, Q
from django.utils import formats, timezone

from apps.access.checkpoints import Checkpoint, CheckpointInvalid, latest_checkpoint, read_checkpoint
from apps.access.journal_keys import mac_is_valid
from apps.access.journal_offline import GENESIS_HASH
from apps.access.models import DEPLOYMENT_CHAIN, AccessEvent, JournalChainHead, JournalVerification

APPEND_MARGIN = timedelta(minutes=10)
_CHUNK = 500


@dataclass(frozen=True)
class JournalReport:
    verified: int
    problems: list[str] = field(default_factory=list)
    checkpoint: Checkpoint | None = None

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> str:
        return "; ".join(self.problems)


def chain_label(chain: str) -> str:
    return "the deployment chain" if chain == DEPLOYMENT_CHAIN else f"record {chain}"


def _when(checkpoint: Checkpoint) -> str:
    return formats.date_format(timezone.localtime(checkpoint.created_at), "Y-m-d H:i:s T")


def _walk(events: Iterable[AccessEvent], starts: dict[str, tuple[int, str]], problems: list[str]) -> tuple[int, dict]:
    """Check hashes, MACs and links chain by chain (events ordered by chain, chain_seq)."""
    verified, tips = 0, {}
    chain, expected_seq, expected_prev, broken = None, 0, GENESIS_HASH, False
    for event in events:
        if event.chain != chain:
            chain, broken = event.chain, False
            start_seq, expected_prev = starts.get(chain, (0, GENESIS_HASH))
            expected_seq = start_seq + 1
        if broken:
            continue
        where = f"{chain_label(chain)}: entry #{event.chain_seq}"
        if event.compute_hash() != event.hash:
            problems.append(f"{where} altered (its content does not match its hash)")
            broken = True
        elif not mac_is_valid(event.hash, event.key_id, event.mac):
            problems.append(f"{where} altered (its MAC does not match: rewritten without the journal key)")
            broken = True
        elif event.chain_seq < expected_seq:
            pass  # before where this walk starts (in the margin): its own hash and MAC hold
        elif event.chain_seq > expected_seq:
            problems.append(f"{chain_label(chain)}: entry #{expected_seq} is missing (found #{event.chain_seq} next)")
            broken = True
        elif event.prev_hash != expected_prev:
            problems.append(f"{where}: its link to entry #{expected_seq - 1} does not match")
            broken = True
        else:
            expected_seq, expected_prev = expected_seq + 1, event.hash
            tips[chain] = (event.chain_seq, event.hash)
        if not broken:
            verified += 1
    return verified, tips


def _check_heads(checkpoint: Checkpoint, problems: list[str]) -> None:
    """Every chain head of the checkpoint is still in the table, with the same hash."""
    heads = sorted(checkpoint.heads.items())
    when = _when(checkpoint)
    for start in range(0, len(heads), _CHUNK):
        chunk = heads[start : start + _CHUNK]
        match = Q()
        for chain, (seq, _hash) in chunk:
            match |= Q(chain=chain, chain_seq=seq)
        found = dict(
            ((chain, seq), head_hash)
            for chain, seq, head_hash in AccessEvent.objects.filter(match).values_list("chain", "chain_seq", "hash")
        )
        missing = [chain for chain, (seq, _hash) in chunk if (chain, seq) not in found]
        last = dict(
            AccessEvent.objects.filter(chain__in=missing)
            .values("chain")
            .annotate(last=Max("chain_seq"))
            .values_list("chain", "last")
        )
        for chain, (seq, head_hash) in chunk:
            present = found.get((chain, seq))
            if present is None:
                problems.append(
                    f"{chain_label(chain)}: truncated after #{last.get(chain) or 0} (checkpoint of {when} says #{seq})"
                )
            elif present != head_hash:
                problems.append(f"{chain_label(chain)}: chain rewritten: head #{seq} differs from checkpoint of {when}")


def _check_head_rows(tips: dict[str, tuple[int, str]], problems: list[str]) -> None:
    for chain, seq, last_hash in JournalChainHead.objects.values_list("chain", "seq", "last_hash").iterator():
        if chain in tips and tips[chain] != (seq, last_hash):
            problems.append(f"{chain_label(chain)}: its head row says #{seq} but the chain ends at #{tips[chain][0]}")


def _incremental_base() -> Checkpoint | None:
    last = JournalVerification.objects.filter(intact=True).exclude(checkpoint_name="").first()
    if last is None:
        return None
    try:
        return read_checkpoint(last.checkpoint_name)
    except (CheckpointInvalid, OSError, ValueError):
        return None


def last_verification() -> JournalVerification | None:
    """The newest stored check (what the history PDF shows)."""
    return JournalVerification.objects.first()


def verify_journal(*, full: bool = False, record: bool = True) -> JournalReport:
    """Check the journal; with ``record``, store the result for the history PDF."""
    problems: list[str] = []
    try:
        checkpoint = latest_checkpoint()
    except (CheckpointInvalid, OSError, ValueError) as error:
        problems.append(str(error))
        checkpoint = None
    base = None if full else _incremental_base()
    events = AccessEvent.objects.order_by("chain", "chain_seq")
    if base is not None:
        events = events.filter(occurred_at__gte=base.created_at - APPEND_MARGIN)
    verified, tips = _walk(events.iterator(chunk_size=2000), base.heads if base else {}, problems)
    if base is None and not problems:
        _check_head_rows(tips, problems)
    if checkpoint is not None:
        _check_heads(checkpoint, problems)
    report = JournalReport(verified, problems, checkpoint)
    if record:
        JournalVerification.objects.create(
            full=base is None,
            intact=report.intact,
            verified=verified,
            checkpoint_name=checkpoint.name if checkpoint else "",
            checkpoint_at=checkpoint.created_at if checkpoint else None,
            problems=problems,
        )
    return report
