from __future__ import annotations

from io import BytesIO
from pathlib import Path

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
