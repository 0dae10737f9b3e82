"""Thin Celery wrappers around the summary PDF exports."""

from __future__ import annotations

from celery import shared_task

from apps.summaries import exports


@shared_task(acks_late=True)
def build_summary_pdf(export_id: int) -> str:
    return exports.summary_export_build(export_id=export_id)


@shared_task
def resume_stalled_summary_exports() -> int:
    """Queue again the exports a broker or worker outage left waiting."""
    ids = exports.summary_exports_stalled()
    for export_id in ids:
        exports.summary_export_enqueue(export_id=export_id)
    return len(ids)


@shared_task
def purge_old_summary_exports() -> int:
    """Delete summary PDFs kept past their retention (daily)."""
    return exports.summary_exports_purge()
