"""Upload checks by content (apps/intake/inspection.py): no database involved."""

from __future__ import annotations

import io
import socket
import struct
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from PIL import Image, PngImagePlugin
from pypdf import PdfWriter
from pypdf.actions import JavaScript

from apps.intake.inspection import (
    IMAGE_MAX_PIXELS,
    Inspection,
    Rejected,
    ScanUnavailable,
    clamav_scan,
    extract_pdf_text,
    inspect_content,
    render_preview,
    sanitize_filename,
)

MAX = 10 * 1024 * 1024
CORPUS: Path = settings.CORPUS_DIR


def inspect(data: bytes, name: str = "") -> Inspection:
    return inspect_content(data=data, declared_name=name, max_bytes=MAX)


def rejection(data: bytes, name: str = "", max_bytes: int = MAX) -> str:
    with pytest.raises(Rejected) as caught:
        inspect_content(data=data, declared_name=name, max_bytes=max_bytes)
    return caught.value.code


# --- Files built for the tests ----------------------------------------------------


def pdf_bytes(*, pages: int = 1, password: str | None = None, user_password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password is not None:
        writer.encrypt(user_password if user_password is not None else password, owner_password=password)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def pdf_with(build: Callable[[PdfWriter], None]) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    build(writer)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def image_bytes(fmt: str, size: tuple[int, int] = (120, 80), **save_options: object) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(output, format=fmt, **save_options)
    return output.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its few bytes of pixel data never hold."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + png_chunk(b"IEND", b"")
    )


MINIMAL_CDA = b"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <code code="11488-4" codeSystem="2.16.840.1.113883.6.1"/>
  <title>Consult note</title>
</ClinicalDocument>
"""

MINIMAL_FHIR_BUNDLE = (
    b'{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient"}}]}'
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE ClinicalDocument [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&xxe;</title></ClinicalDocument>
"""

SVG = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>
"""


# --- sanitize_filename --------------------------------------------------------------


def test_sanitize_filename_keeps_an_ordinary_name():
    assert sanitize_filename("Compte rendu biologie é.pdf") == "Compte rendu biologie é.pdf"


def test_sanitize_filename_drops_parent_directories():
    assert sanitize_filename("../../etc/passwd") == "passwd"


def test_sanitize_filename_drops_an_absolute_path():
    assert sanitize_filename("/etc/passwd") == "passwd"


def test_sanitize_filename_drops_a_windows_path():
    assert sanitize_filename("C:\\Users\\alice\\..\\scan.pdf") == "scan.pdf"


def test_sanitize_filename_removes_nul():
    assert sanitize_filename("report.exe\x00.pdf") == "report.exe.pdf"


def test_sanitize_filename_removes_control_characters():
    assert sanitize_filename("lab\r\nresults\x07.pdf") == "lab results.pdf"


def test_sanitize_filename_removes_right_to_left_override():
    # Displayed as "invoiceexe.pdf" with the override; the real extension must show.
    assert sanitize_filename("invoice\u202efdp.exe") == "invoicefdp.exe"


def test_sanitize_filename_removes_bidi_isolates_marks_and_zero_width_characters():
    assert sanitize_filename("a\u2066b\u2069c\u200ed\u200fe\u200bf\ufeff.pdf") == "abcdef.pdf"


def test_sanitize_filename_collapses_whitespace():
    assert sanitize_filename("  lab   results\t 2024.pdf  ") == "lab results 2024.pdf"


def test_sanitize_filename_truncates_a_long_name_keeping_the_extension():
    cleaned = sanitize_filename("a" * 1000 + ".pdf")
    assert len(cleaned) == 200
    assert cleaned.endswith("a.pdf")


def test_sanitize_filename_truncates_a_long_name_without_extension():
    assert sanitize_filename("b" * 1000) == "b" * 200


@pytest.mark.parametrize("name", ["", "   ", "..", "../", "\u202e\u200f", "\x00\x01", "C:\\"])
def test_sanitize_filename_is_never_empty(name):
    assert sanitize_filename(name) == "document"


# --- inspect_content: size -----------------------------------------------------------


def test_empty_file_is_rejected():
    assert rejection(b"") == "empty"


def test_file_above_the_limit_is_rejected():
    assert rejection(pdf_bytes(), max_bytes=100) == "too_large"


def test_file_at_the_limit_is_accepted():
    data = pdf_bytes()
    assert inspect_content(data=data, max_bytes=len(data)).kind == "pdf"


# --- inspect_content: the type comes from the content -----------------------------------


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 64, "scan.pdf"),
        (b"\x7fELF\x02\x01\x01" + b"\0" * 64, "scan.pdf"),
        (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "scan.pdf"),
        (b"<html><head><title>x</title></head></html>", "report.xml"),
        (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "cda.xml"),
        (b"Just some plain text about my health.\n", "notes.pdf"),
        (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04", "photo.png"),
    ],
    ids=["mz-renamed-pdf", "elf-renamed-pdf", "html-renamed-pdf", "html", "xhtml", "text", "gif"],
)
def test_unsupported_content_is_rejected_whatever_its_name(data, name):
    assert rejection(data, name) == "unsupported_type"


def test_zip_archive_is_rejected():
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("report.pdf", pdf_bytes())
    assert rejection(output.getvalue(), "report.pdf") == "unsupported_type"


def test_gif_built_with_pillow_is_rejected():
    assert rejection(image_bytes("GIF"), "photo.jpg") == "unsupported_type"


def test_png_named_pdf_is_inspected_as_png():
    assert inspect(image_bytes("PNG"), "report.pdf").kind == "png"


# --- PDF ------------------------------------------------------------------------------


def test_minimal_pdf_is_accepted():
    found = inspect(pdf_bytes(pages=3))
    assert found == Inspection(kind="pdf", mime_type="application/pdf", has_active_content=False, page_count=3)


def test_truncated_pdf_is_corrupt():
    data = (CORPUS / "pdf" / "hl7-ud-sample.pdf").read_bytes()
    assert rejection(data[: len(data) // 2]) == "corrupt_pdf"


def test_pdf_cut_just_before_its_end_marker_is_corrupt():
    data = pdf_bytes()
    assert rejection(data[: data.rindex(b"%%EOF")]) == "corrupt_pdf"


def test_pdf_header_on_garbage_is_corrupt():
    assert rejection(b"%PDF-1.7\nthis is not a pdf at all\n%%EOF\n") == "corrupt_pdf"


def test_encrypted_pdf_is_rejected():
    assert rejection(pdf_bytes(password="secret")) == "encrypted_pdf"


def test_pdf_encrypted_with_an_empty_user_password_is_rejected():
    assert rejection(pdf_bytes(password="owner-secret", user_password="")) == "encrypted_pdf"


def test_pdf_with_javascript_is_accepted_and_flagged_active():
    data = pdf_with(lambda writer: writer.add_open_action(JavaScript("app.alert('hello');")))
    found = inspect(data)
    assert found.kind == "pdf"
    assert found.has_active_content is True


def test_pdf_with_an_embedded_file_is_flagged_active():
    data = pdf_with(lambda writer: writer.add_attachment("payload.exe", b"MZ..."))
    assert inspect(data).has_active_content is True


def test_blank_pdf_is_not_flagged_active():
    assert inspect(pdf_bytes()).has_active_content is False


# --- Images ---------------------------------------------------------------------------


def test_png_is_accepted_with_its_size():
    found = inspect(image_bytes("PNG", (120, 80)))
    assert found == Inspection(kind="png", mime_type="image/png", width=120, height=80)


def test_jpeg_is_accepted_with_its_size():
    found = inspect(image_bytes("JPEG", (64, 48)))
    assert (found.kind, found.mime_type, found.width, found.height) == ("jpeg", "image/jpeg", 64, 48)


def test_png_with_a_broken_checksum_is_corrupt():
    data = bytearray(image_bytes("PNG"))
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF  # inside the compressed pixels: the chunk's CRC no longer matches
    assert rejection(bytes(data)) == "corrupt_image"


def test_truncated_png_is_corrupt():
    data = image_bytes("PNG", (300, 300))
    assert rejection(data[:60]) == "corrupt_image"


def test_truncated_jpeg_is_corrupt():
    data = image_bytes("JPEG", (300, 300))
    assert rejection(data[: len(data) // 2]) == "corrupt_image"


def test_png_declaring_ten_billion_pixels_is_an_image_bomb():
    assert rejection(png_declaring(100_000, 100_000)) == "image_bomb"


def test_png_just_above_our_pixel_limit_is_an_image_bomb():
    # 64 Mpx: above our 50 Mpx, below Pillow's own default limit.
    assert IMAGE_MAX_PIXELS < 8000 * 8000
    assert rejection(png_declaring(8000, 8000)) == "image_bomb"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_png_where_pillow_only_warns_is_an_image_bomb():
    # 100 Mpx: Pillow merely warns between its limit (~89 Mpx) and twice that.
    assert rejection(png_declaring(10_000, 10_000)) == "image_bomb"


def test_pixel_limit_holds_even_when_pillow_limit_is_disabled(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    assert rejection(png_declaring(100_000, 100_000)) == "image_bomb"


# --- SVG and XML ---------------------------------------------------------------------------


def test_svg_is_rejected():
    assert rejection(SVG, "photo.png") == "svg"


def test_svg_with_a_doctype_is_rejected_as_svg():
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg xmlns="http://www.w3.org/2000/svg"/>'
    )
    assert rejection(data) == "svg"


def test_svg_behind_a_long_comment_is_rejected_as_svg():
    data = b"<!--" + b"x" * 10_000 + b'--><svg:svg xmlns:svg="http://www.w3.org/2000/svg"/>'
    assert rejection(data) == "svg"


def test_billion_laughs_is_rejected_without_expansion():
    assert rejection(BILLION_LAUGHS) == "xml_entities"


def test_external_entity_is_rejected():
    assert rejection(XXE) == "xml_entities"


def test_any_doctype_is_rejected():
    data = b'<!DOCTYPE ClinicalDocument><ClinicalDocument xmlns="urn:hl7-org:v3"/>'
    assert rejection(data) == "xml_entities"


def test_unclosed_xml_is_malformed():
    assert rejection(b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>Note') == "malformed_xml"


def test_truncated_cda_is_malformed():
    data = (CORPUS / "ccda" / "hl7-ccd-2.xml").read_bytes()
    assert rejection(data[: len(data) // 2]) == "malformed_xml"


def test_xml_of_another_kind_is_not_cda():
    assert rejection(b'<?xml version="1.0"?><order xmlns="urn:example"><item/></order>') == "not_cda"


def test_clinical_document_outside_the_hl7_namespace_is_not_cda():
    assert rejection(b"<ClinicalDocument><title>x</title></ClinicalDocument>") == "not_cda"


def test_fhir_xml_is_recognised_as_fhir():
    found = inspect((CORPUS / "ips" / "ips-bundle-01.xml").read_bytes())
    assert (found.kind, found.mime_type) == ("fhir", "application/fhir+xml")


def test_minimal_cda_is_accepted():
    assert inspect(MINIMAL_CDA, "note.pdf") == Inspection(kind="cda", mime_type="application/xml")


def test_cda_with_a_byte_order_mark_is_accepted():
    assert inspect(b"\xef\xbb\xbf" + MINIMAL_CDA).kind == "cda"


def test_cda_in_utf16_is_accepted():
    data = MINIMAL_CDA.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert inspect(data).kind == "cda"


# --- JSON ---------------------------------------------------------------------------------


def test_minimal_fhir_bundle_is_accepted():
    assert inspect(MINIMAL_FHIR_BUNDLE) == Inspection(kind="fhir", mime_type="application/fhir+json")


def test_truncated_json_is_malformed():
    assert rejection(MINIMAL_FHIR_BUNDLE[:40]) == "malformed_json"


def test_json_with_nan_is_malformed():
    assert rejection(b'{"resourceType": "Observation", "valueQuantity": {"value": NaN}}') == "malformed_json"


def test_deeply_nested_json_is_malformed():
    assert rejection(b"[" * 200_000 + b"]" * 200_000) == "malformed_json"


def test_json_without_resource_type_is_not_fhir():
    assert rejection(b'{"name": "Alice", "birthDate": "1979-03-12"}') == "not_fhir"


def test_json_array_is_not_fhir():
    assert rejection(b'[{"resourceType": "Patient"}]') == "not_fhir"


def test_json_with_a_non_text_resource_type_is_not_fhir():
    assert rejection(b'{"resourceType": 42}') == "not_fhir"


# --- The real corpus ------------------------------------------------------------------------


def corpus_files(*patterns: str) -> list[Path]:
    return sorted(path for pattern in patterns for path in CORPUS.glob(pattern))


def test_corpus_is_present():
    assert corpus_files("pdf/*.pdf")
    assert corpus_files("ccda/*.xml", "fr-cda/*.xml")
    assert corpus_files("synthea-fhir-r4/*.json")


@pytest.mark.parametrize("path", corpus_files("pdf/*.pdf"), ids=lambda path: path.name)
def test_corpus_pdfs_are_pdf(path):
    found = inspect(path.read_bytes(), path.name)
    assert found.kind == "pdf"
    assert found.page_count >= 1
    assert found.has_active_content is False


@pytest.mark.parametrize("path", corpus_files("ccda/*.xml", "fr-cda/*.xml"), ids=lambda path: path.name)
def test_corpus_cda_documents_are_cda(path):
    assert inspect(path.read_bytes(), path.name).kind == "cda"


@pytest.mark.parametrize("path", corpus_files("synthea-fhir-r4/*.json"), ids=lambda path: path.name)
def test_corpus_synthea_bundles_are_fhir(path):
    assert inspect(path.read_bytes(), path.name).kind == "fhir"


# --- Text extraction ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "word"),
    [("hl7-ud-sample.pdf", "Discharge Summary"), ("fr-cr-biologie-tsh-fop.pdf", "biologiques")],
)
def test_pdf_text_contains_the_document_words(name, word):
    assert word in extract_pdf_text(data=(CORPUS / "pdf" / name).read_bytes())


def test_pdf_text_has_whitespace_collapsed():
    text = extract_pdf_text(data=(CORPUS / "pdf" / "hl7-ud-sample.pdf").read_bytes())
    assert "\n" not in text
    assert "  " not in text


def test_pdf_text_stops_at_max_chars():
    text = extract_pdf_text(data=(CORPUS / "pdf" / "hl7-ud-sample.pdf").read_bytes(), max_chars=100)
    assert len(text) == 100


def test_pdf_text_of_a_scanned_pdf_is_empty():
    assert extract_pdf_text(data=(CORPUS / "pdf" / "fr-cr-biologie-word.pdf").read_bytes()) == ""


def test_pdf_text_of_garbage_is_empty_not_an_error():
    assert extract_pdf_text(data=b"%PDF-1.4 nothing here") == ""


def test_pdf_text_of_an_encrypted_pdf_is_empty():
    assert extract_pdf_text(data=pdf_bytes(password="secret")) == ""


# --- Previews -----------------------------------------------------------------------------


def open_png(data: bytes | None) -> Image.Image:
    assert data is not None
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_pdf_preview_is_a_png_of_at_most_max_px():
    preview = open_png(render_preview(data=(CORPUS / "pdf" / "hl7-ud-sample.pdf").read_bytes(), kind="pdf"))
    assert max(preview.size) <= 800
    assert max(preview.size) >= 790  # scaled to fit, not a thumbnail of a thumbnail


def test_pdf_preview_honours_a_smaller_max_px():
    preview = open_png(render_preview(data=pdf_bytes(), kind="pdf", max_px=200))
    assert max(preview.size) <= 200


def test_image_preview_is_downscaled():
    preview = open_png(render_preview(data=image_bytes("PNG", (2000, 1000)), kind="png"))
    assert preview.size == (800, 400)


def test_small_image_preview_is_not_enlarged():
    preview = open_png(render_preview(data=image_bytes("JPEG", (120, 80)), kind="jpeg"))
    assert preview.size == (120, 80)


def test_image_preview_applies_exif_orientation_and_drops_exif():
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x010F] = "PhoneMaker"
    preview = open_png(render_preview(data=image_bytes("JPEG", (300, 100), exif=exif), kind="jpeg"))
    assert preview.size == (100, 300)
    assert "exif" not in preview.info
    assert len(preview.getexif()) == 0


def test_image_preview_drops_text_metadata():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Alice Martin, 12 rue des Lilas")
    preview = open_png(render_preview(data=image_bytes("PNG", pnginfo=info), kind="png"))
    assert "Author" not in preview.info


@pytest.mark.parametrize("kind", ["cda", "fhir"])
def test_structured_documents_have_no_preview(kind):
    assert render_preview(data=MINIMAL_CDA, kind=kind) is None


@pytest.mark.parametrize("kind", ["pdf", "png", "jpeg"])
def test_preview_of_a_bad_file_is_none(kind):
    assert render_preview(data=b"not a real file", kind=kind) is None


def test_preview_of_an_image_bomb_is_none():
    assert render_preview(data=png_declaring(100_000, 100_000), kind="png") is None


def test_preview_of_an_encrypted_pdf_is_none():
    assert render_preview(data=pdf_bytes(password="secret"), kind="pdf") is None


# --- ClamAV client against a fake clamd ----------------------------------------------------------

EICAR_MARKER = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"


def read_exact(connection: socket.socket, size: int) -> bytes:
    received = b""
    while len(received) < size:
        chunk = connection.recv(size - len(received))
        if not chunk:
            raise ConnectionError("client closed early")
        received += chunk
    return received


def serve_clamd(listener: socket.socket, respond: Callable[[bytes], bytes | None], log: list, stop: threading.Event):
    """A tiny clamd: one INSTREAM per connection; ``respond`` gives the reply (None = never answer)."""
    listener.settimeout(0.1)
    while not stop.is_set():
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        with connection:
            connection.settimeout(5)
            try:
                command = b""
                while not command.endswith(b"\0"):
                    command += read_exact(connection, 1)
                payload = b""
                while size := struct.unpack(">I", read_exact(connection, 4))[0]:
                    payload += read_exact(connection, size)
                log.append((command, payload))
                reply = respond(payload)
                if reply is None:
                    connection.recv(1)  # hold the line until the client gives up
                else:
                    connection.sendall(reply)
            except OSError:
                continue


def clamd_reply(payload: bytes) -> bytes:
    if EICAR_MARKER in payload:
        return b"stream: Eicar-Test-Signature FOUND\0"
    return b"stream: OK\0"


@pytest.fixture
def fake_clamd() -> Iterator[Callable[..., tuple[str, list]]]:
    started: list[tuple[socket.socket, threading.Event, threading.Thread]] = []

    def start(respond: Callable[[bytes], bytes | None] = clamd_reply, unix_path: str | None = None):
        if unix_path:
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(unix_path)
            address = unix_path
        else:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
            address = f"127.0.0.1:{listener.getsockname()[1]}"
        listener.listen()
        log: list[tuple[bytes, bytes]] = []
        stop = threading.Event()
        thread = threading.Thread(target=serve_clamd, args=(listener, respond, log, stop), daemon=True)
        thread.start()
        started.append((listener, stop, thread))
        return address, log

    yield start
    for listener, stop, thread in started:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_clamav_clean_file_returns_none(fake_clamd):
    address, _ = fake_clamd()
    assert clamav_scan(data=b"a harmless report", address=address) is None


def test_clamav_infected_file_returns_the_virus_name(fake_clamd):
    address, _ = fake_clamd()
    assert clamav_scan(data=b"X5O!P%@AP " + EICAR_MARKER, address=address) == "Eicar-Test-Signature"


def test_clamav_receives_the_whole_file_in_chunks(fake_clamd):
    address, log = fake_clamd()
    data = bytes(range(256)) * 1000  # 256 kB: several chunks
    clamav_scan(data=data, address=address)
    assert log == [(b"zINSTREAM\0", data)]


def test_clamav_over_a_unix_socket(fake_clamd):
    with tempfile.TemporaryDirectory(dir="/tmp") as directory:
        address, _ = fake_clamd(unix_path=f"{directory}/clamd.ctl")
        assert clamav_scan(data=b"a harmless report", address=address) is None


def test_clamav_unreachable_port_raises_scan_unavailable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ScanUnavailable):
        clamav_scan(data=b"data", address=f"127.0.0.1:{port}", timeout=2)


def test_clamav_missing_unix_socket_raises_scan_unavailable():
    with pytest.raises(ScanUnavailable):
        clamav_scan(data=b"data", address="/nonexistent/clamd.ctl")


def test_clamav_silent_daemon_raises_scan_unavailable(fake_clamd):
    address, _ = fake_clamd(respond=lambda payload: None)
    with pytest.raises(ScanUnavailable):
        clamav_scan(data=b"data", address=address, timeout=0.5)


def test_clamav_error_reply_raises_scan_unavailable(fake_clamd):
    address, _ = fake_clamd(respond=lambda payload: b"INSTREAM size limit exceeded. ERROR\0")
    with pytest.raises(ScanUnavailable):
        clamav_scan(data=b"data", address=address)


def test_clamav_malformed_address_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured):
        clamav_scan(data=b"data", address="clamd-without-port")


def test_truncated_jpeg_is_corrupt_even_after_weasyprint_is_loaded():
    import weasyprint  # noqa: F401 - it turns Pillow's LOAD_TRUNCATED_IMAGES on for the whole process
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES
    data = image_bytes("JPEG", (300, 300))
    assert rejection(data[: len(data) // 2]) == "corrupt_image"
