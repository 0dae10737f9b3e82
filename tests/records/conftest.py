from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfWriter


def corpus(*parts: str) -> Path:
    return Path(settings.CORPUS_DIR, *parts)


def pdf_bytes(text_pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(text_pages):
        writer.add_blank_page(width=200, height=200)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Run what a commit hands to Celery (eager here), as a worker would right after."""

    def runner(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return runner
