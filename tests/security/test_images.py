"""Breach 14: a 381 KB PNG that decodes to 392 MB (7000 × 7000, 16-bit RGBA) cost 13 s and +330 MB.

The upload must be refused from the header alone, in the request, with the clear message; the
request never decodes pixels (the worker does, for files that pass).
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from apps.records import documents
from apps.records.models import Document
from tests.conftest import logged_in_client

pytestmark = pytest.mark.django_db

TOO_LARGE = "This image is far too large to be shown safely. Send a smaller photo."


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def zero_png(width: int, height: int, *, bit_depth: int = 16, color_type: int = 6) -> bytes:
    """A real, valid PNG of zeros, built without compressing the whole raw image.

    Each scanline is deflated once after a full flush (which resets the compressor), so the
    same bytes can be repeated for every row; the Adler-32 of n zero bytes is (n mod 65521) << 16 | 1.
    """
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    row = b"\0" * (1 + width * channels * bit_depth // 8)
    compressor = zlib.compressobj(9)
    head = compressor.compress(row) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(row) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush(zlib.Z_FINISH)[:-4]
    adler = ((len(row) * height) % 65521) << 16 | 1
    stream = head + block * (height - 1) + tail + struct.pack(">I", adler)
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b"")


@pytest.fixture
def decodes(monkeypatch):
    """Every pixel decode Pillow does during the test."""
    calls: list[tuple[int, int]] = []
    original = Image.Image.load

    def spy(image):
        calls.append(image.size)
        return original(image)

    monkeypatch.setattr(Image.Image, "load", spy)
    return calls


def test_the_zero_png_is_a_real_png():
    data = zero_png(64, 32)
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.size == (64, 32)


def test_a_16_bit_rgba_png_of_49_megapixels_is_refused_from_its_header(alice, alice_record, decodes):
    data = zero_png(7000, 7000)
    assert len(data) < 1_000_000  # about 500 KB on the wire, 392 MB once decoded
    client = logged_in_client(alice)

    answer = client.post(
        reverse("api_record_documents", args=[alice_record.uuid]),
        {"file": SimpleUploadedFile("holiday.png", data, content_type="image/png")},
    )

    assert answer.status_code == 400
    assert answer.json()["file"] == [TOO_LARGE]
    assert answer.json()["code"] == "image_bomb"
    assert not Document.objects.exists()
    assert decodes == []  # not one pixel decoded


def test_the_upload_page_refuses_it_with_the_same_message(alice, alice_record, decodes):
    answer = logged_in_client(alice).post(
        reverse("document_upload", args=[alice_record.uuid]),
        {"files": SimpleUploadedFile("holiday.png", zero_png(7000, 7000), content_type="image/png")},
    )

    assert answer.status_code == 400
    assert TOO_LARGE.encode() in answer.content
    assert not Document.objects.exists()
    assert decodes == []


def test_the_cap_is_on_decoded_bytes_not_only_pixels(alice, alice_record, decodes, monkeypatch):
    from apps.intake import inspection

    # Same pixel count, twice the bytes per pixel: only the 16-bit one is over a cap set between them.
    monkeypatch.setattr(inspection, "IMAGE_MAX_DECODED_BYTES", 600 * 400 * 6)
    client = logged_in_client(alice)
    url = reverse("api_record_documents", args=[alice_record.uuid])

    eight_bit = client.post(url, {"file": SimpleUploadedFile("a.png", zero_png(600, 400, bit_depth=8))})
    sixteen_bit = client.post(url, {"file": SimpleUploadedFile("b.png", zero_png(600, 400, bit_depth=16))})

    assert eight_bit.status_code == 201
    assert sixteen_bit.status_code == 400
    assert sixteen_bit.json()["code"] == "image_bomb"
    assert Document.objects.count() == 1
    assert decodes == []  # the accepted one is decoded later, by the worker


def test_an_accepted_image_is_decoded_by_the_worker_not_the_request(run_tasks, alice, alice_record, decodes):
    outcome = documents.document_upload(
        actor=alice, record=alice_record, filename="scan.png", data=zero_png(300, 200, bit_depth=8)
    )
    assert decodes == []

    run_tasks(documents.document_process, document_id=outcome.document.pk)

    outcome.document.refresh_from_db()
    assert outcome.document.status == "ready"
    assert (300, 200) in decodes
