"""Periodic journal work (beat schedule in settings.CELERY_BEAT_SCHEDULE): signed checkpoints
and the journal check, which reads the table and so never runs in a request."""

from __future__ import annotations

import logging

from celery import shared_task

from apps.access.checkpoints import write_checkpoint
from apps.access.partitions import ensure_partitions
from apps.access.verification import verify_journal

logger = logging.getLogger(__name__)


@shared_task(name="apps.access.tasks.journal_checkpoint_task")
def journal_checkpoint_task() -> str:
    return write_checkpoint().name


@shared_task(name="apps.access.tasks.journal_verify_task")
def journal_verify_task(full: bool = True) -> bool:
    report = verify_journal(full=full)
    if not report.intact:
        logger.error("access journal BROKEN: %s", report.problem)
    return report.intact


@shared_task(name="apps.access.tasks.journal_partitions_task")
def journal_partitions_task() -> list[str]:
    """Create the journal's monthly partitions ahead of time (PostgreSQL; nothing elsewhere)."""
    return ensure_partitions().created
