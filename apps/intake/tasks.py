"""Thin Celery wrappers around the document pipeline.

The task names are the ones they had in `apps.records.tasks`: messages already queued
in production, and the beat schedule, name them that way.
"""

from __future__ import annotations

from celery import shared_task

from apps.records import documents


@shared_task(
    name="apps.records.tasks.process_document",
    bind=True,
    acks_late=True,
    autoretry_for=(documents.TransientFailure, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def process_document(self, document_id: int) -> str:
    try:
        return documents.document_process(document_id=document_id)
    except (documents.TransientFailure, OSError):
        if self.request.retries >= self.max_retries:
            documents.document_reject(document_id=document_id, code="processing_failed")
            return "rejected"
        raise


@shared_task(name="apps.records.tasks.resume_stalled_documents")
def resume_stalled_documents() -> int:
    """Queue again what a broker or worker outage left waiting."""
    ids = documents.documents_stalled()
    for document_id in ids:
        documents.document_enqueue(document_id=document_id)
    return len(ids)
