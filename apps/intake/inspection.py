"""Checking an uploaded file by its content, before anything is imported.

Pure functions, no database. The file name a person (or their software) sends
is never trusted: the kind is decided from the bytes (magic numbers, then the
library that will read it), and the name is only cleaned for display.

``inspect_content`` either returns an ``Inspection`` or raises ``Rejected``
with one of ``REJECTION_CODES``; the caller turns the code into words the
person understands (DESIGN.md rule 5). XML and JSON are only recognised here
(root element, ``resourceType``); reading their clinical content is done
elsewhere, on input that has already passed these checks.

Third-party parsers (pypdf, Pillow, PDFium, expat) raise many different
exception types on hostile input; where a module catches ``Exception`` below,
it is around such a parser only, and the outcome is a refusal or ``None``,
never a half-checked file.
"""

from __future__ import annotations

import io
import json
import logging
import re
import socket
import struct
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal, TypeGuard

import pypdfium2 as pdfium
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser, ParseError
from django.core.exceptions import ImproperlyConfigured
from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

logger = logging.getLogger(__name__)

Kind = Literal["pdf", "jpeg", "png", "cda", "fhir"]

MIME_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "cda": "application/xml",
    "fhir": "application/fhir+json",
}


def is_kind(value: str) -> TypeGuard[Kind]:
    """Whether a stored kind (a plain string in the database) is one this module knows."""
    return value in MIME_TYPES


REJECTION_CODES = (
    "empty",
    "too_large",
    "unsupported_type",
    "svg",
    "corrupt_pdf",
    "encrypted_pdf",
    "corrupt_image",
    "image_bomb",
    "xml_entities",
    "malformed_xml",
    "not_cda",
    "malformed_json",
    "not_fhir",
)

# Our own ceiling, below Pillow's default (~89 Mpx): a 50 Mpx photo is already
# far beyond any phone camera, and decoding one costs ~200 MB of memory.
# Checked from the header, before any pixel is decoded; kept here rather than
# in Image.MAX_IMAGE_PIXELS so no other code's global setting weakens it.
IMAGE_MAX_PIXELS = 50_000_000
# And a ceiling on the memory the pixels take once decoded: a 50 Mpx 8-bit RGB photo
# (150 MB) passes, a 49 Mpx 16-bit RGBA PNG (392 MB, from a 381 KB file) does not.
IMAGE_MAX_DECODED_BYTES = 160_000_000

FILENAME_MAX_CHARS = 200
FALLBACK_FILENAME = "document"
_EXTENSION_MAX_CHARS = 16  # longer "extensions" are just part of the name

CDA_ROOT = "{urn:hl7-org:v3}ClinicalDocument"

# PDF names that make a viewer run or open something by itself: scripts,
# actions on open or on events, launching programs, files carried inside,
# Flash/3D media and XFA forms (which carry scripts). Found as dictionary keys
# (/OpenAction, /AA, /JS) or as values (/S /JavaScript, /Type /EmbeddedFile).
_PDF_ACTIVE_NAMES = frozenset(
    {
        "/JavaScript",
        "/JS",
        "/OpenAction",
        "/AA",
        "/Launch",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/RichMedia",
        "/XFA",
    }
)
# A walk over more objects than this is stopped and the file flagged active:
# the flag must not be "clean" just because we gave up looking.
_PDF_MAX_OBJECTS_WALKED = 500_000

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_PDF_MAGIC = b"%PDF-"
_SNIFF_BYTES = 4096
_XML_FEED_BYTES = 1 << 20

# Tags that open an HTML page (the start of the WHATWG sniffing list): HTML is
# refused as such, even when it happens to be well-formed XML.
_HTML_TAGS = frozenset(
    {"html", "head", "body", "script", "iframe", "h1", "div", "font", "table", "a", "style", "title", "b", "br", "p"}
)
_FHIR_RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")

# PDFium is not thread-safe: one rendering at a time in this process.
_PDFIUM_LOCK = threading.Lock()


class Rejected(Exception):
    """The file is refused; ``code`` (one of REJECTION_CODES) says why.

    ``detail`` is for logs only (it may quote the untrusted file name).
    """

    def __init__(self, code: str, detail: str = "") -> None:
        # Both in args, so the exception survives pickling (Celery results).
        super().__init__(code, detail)
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code


class ScanUnavailable(Exception):
    """The virus scanner could not give an answer; the file is neither clean nor infected yet."""


@dataclass(frozen=True, slots=True)
class Inspection:
    kind: Kind
    mime_type: str
    has_active_content: bool = False
    page_count: int | None = None
    width: int | None = None
    height: int | None = None


# --- File names ------------------------------------------------------------------


def sanitize_filename(name: str) -> str:
    """A name safe to show and to put in a Content-Disposition header.

    It is never used to build a storage path: blobs are named by UUID.
    """
    name = unicodedata.normalize("NFC", name or "")
    # Any path, from any system, is dropped: "../../etc/passwd" -> "passwd".
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"^[A-Za-z]:", "", name)  # a Windows drive letter without a separator ("C:report.pdf")
    name = _drop_invisible(name)
    # Leading dots would make a hidden file or "..", trailing ones hide the extension.
    name = " ".join(name.split()).strip(" .")
    if len(name) > FILENAME_MAX_CHARS:
        name = _truncate_keeping_extension(name)
    return name or FALLBACK_FILENAME


def _drop_invisible(name: str) -> str:
    # Control characters (NUL, newlines: header injection, C-string truncation),
    # format characters (Cf: bidi overrides and isolates, U+200E/F marks,
    # zero-width characters, which make "invoice\u202efdp.exe" display as
    # "invoiceexe.pdf"), lone surrogates and private-use characters.
    kept = []
    for char in name:
        if char.isspace():
            kept.append(" ")
        elif unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co"}:
            kept.append(char)
    return "".join(kept)


def _truncate_keeping_extension(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    if dot and stem and 0 < len(extension) <= _EXTENSION_MAX_CHARS and " " not in extension:
        suffix = f".{extension}"
        return stem[: FILENAME_MAX_CHARS - len(suffix)].rstrip(" .") + suffix
    return name[:FILENAME_MAX_CHARS].rstrip(" .")


# The extension a file is served with, by its detected type; the first is the one added.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "application/pdf": ("pdf",),
    "image/jpeg": ("jpg", "jpeg"),
    "image/png": ("png",),
    "application/xml": ("xml",),
    "application/fhir+xml": ("xml",),
    "application/fhir+json": ("json",),
}
_LOOKS_LIKE_EXTENSION = re.compile(r"[A-Za-z][A-Za-z0-9]{0,7}")


def served_filename(*, name: str, mime_type: str) -> str:
    """The name a download is saved under: the person's name, with the real type's extension.

    The extension comes from the detected content type, never from the uploaded name, so a
    PDF named "invoice.html" (or "invoice\u202efdp.html") is saved as "invoice.pdf" and
    opens in a PDF reader, not in the browser. ``content_disposition_header`` escapes the
    rest; a double quote also becomes an apostrophe, for clients that ignore the escape.
    """
    name = sanitize_filename(name).replace('"', "'")
    extensions = EXTENSIONS.get(mime_type, ("bin",))
    stem, dot, extension = name.rpartition(".")
    if dot and stem and extension.lower() in extensions:
        return name
    if dot and stem and _LOOKS_LIKE_EXTENSION.fullmatch(extension):
        name = stem.rstrip(" .") or FALLBACK_FILENAME
    return f"{name}.{extensions[0]}"


# --- Content inspection ------------------------------------------------------------


def inspect_content(*, data: bytes, declared_name: str = "", max_bytes: int, decode: bool = False) -> Inspection:
    """What this file really is, or ``Rejected``. ``declared_name`` only appears in log details.

    ``decode``: also decode an image's pixels (to find damaged scan data). Only the worker
    does; a request reads headers and checksums only, so an upload's cost stays bounded.
    """
    if not data:
        raise Rejected("empty")
    if len(data) > max_bytes:
        raise Rejected("too_large", f"{len(data)} bytes > {max_bytes}")
    if data.startswith(_PDF_MAGIC):
        return _inspect_pdf(data)
    if data.startswith(_PNG_MAGIC):
        return _inspect_image(data, "png", decode=decode)
    if data.startswith(_JPEG_MAGIC):
        return _inspect_image(data, "jpeg", decode=decode)
    head = _text_head(data)
    if head.startswith("<"):
        return _inspect_xml(data, head, declared_name)
    if head.startswith(("{", "[")):
        return _inspect_json(data)
    # Executables (MZ, ELF), archives (ZIP, also DOCX), GIF, plain text...
    raise Rejected("unsupported_type", f"unrecognised content in {declared_name!r}: {data[:8]!r}")


def _text_head(data: bytes) -> str:
    """The start of the file as text, without BOM or leading whitespace ("" when binary)."""
    head = data[:_SNIFF_BYTES]
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, errors="replace").lstrip()
    if b"\0" in head:
        return ""  # text formats we accept never hold NUL in UTF-8; binaries do
    return head.decode("utf-8", errors="replace").lstrip()


# --- PDF


def _inspect_pdf(data: bytes) -> Inspection:
    # A PDF ends with %%EOF (readers look in the last 1024 bytes). Without it
    # the upload was cut short; pypdf would silently rebuild what it can.
    if b"%%EOF" not in data[-1024:]:
        raise Rejected("corrupt_pdf", "no %%EOF marker: truncated")
    try:
        reader = PdfReader(io.BytesIO(data))
        # Refused even when an empty password opens it: we could neither read
        # the text nor vouch for the content.
        if reader.is_encrypted:
            raise Rejected("encrypted_pdf")
        page_count = len(reader.pages)
        active = _pdf_has_active_content(reader)
    except Rejected:
        raise
    except Exception as error:  # noqa: BLE001 - pypdf raises many types on hostile files
        raise Rejected("corrupt_pdf", f"{type(error).__name__}: {error}") from None
    if page_count == 0:
        raise Rejected("corrupt_pdf", "no pages")
    return Inspection(kind="pdf", mime_type=MIME_TYPES["pdf"], has_active_content=active, page_count=page_count)


def _pdf_has_active_content(reader: PdfReader) -> bool:
    # Walk the object graph from the trailer rather than grep the bytes: names
    # hidden in compressed object streams or written with #xx escapes
    # ("/J#61vaScript") are only visible once parsed. Only containers are
    # walked; stream contents are not decoded.
    stack: list[object] = [reader.trailer]
    seen: set[tuple[int, int]] = set()
    walked = 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            reference = (node.idnum, node.generation)
            if reference in seen:
                continue
            seen.add(reference)
            node = node.get_object()
        walked += 1
        if walked > _PDF_MAX_OBJECTS_WALKED:
            return True
        if isinstance(node, DictionaryObject):
            if any(key in _PDF_ACTIVE_NAMES for key in node):
                return True
            children = list(node.values())
        elif isinstance(node, ArrayObject):
            children = list(node)
        else:
            children = [node]
        for child in children:
            if isinstance(child, NameObject) and child in _PDF_ACTIVE_NAMES:
                return True
            if isinstance(child, (IndirectObject, DictionaryObject, ArrayObject)):
                stack.append(child)
    return False


# --- Images


def _inspect_image(data: bytes, kind: Kind, *, decode: bool = False) -> Inspection:
    pillow_format = "PNG" if kind == "png" else "JPEG"
    with _pillow_refusals():
        # Image.open reads the header only. Pillow raises DecompressionBombError
        # itself above twice its own limit; below that, our lower limits decide
        # (no warnings filter juggling: that state is process-wide, not per thread).
        with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
            width, height = image.size  # from the header: nothing decoded yet
            _check_pixels(width, height)
            _check_decoded_bytes(image, data, kind)
            image.verify()  # structure and checksums, still without decoding
        if decode:
            # verify() does not read JPEG scan data: decode once, at 1/8 scale for
            # JPEG (DCT scaling: the whole stream is read, with little memory).
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
                if kind == "jpeg":
                    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
    _check_jpeg_end(data, kind)
    return Inspection(kind=kind, mime_type=MIME_TYPES[kind], width=width, height=height)


@contextmanager
def _pillow_refusals() -> Iterator[None]:
    """Whatever Pillow raises on a hostile or damaged image becomes a refusal with its reason."""
    try:
        yield
    except Rejected:
        raise
    # The warning only arrives as an exception where warnings are errors (-W error).
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Rejected("image_bomb", "over Pillow's pixel limit") from None
    except Exception as error:  # noqa: BLE001 - Pillow raises many types on hostile files
        raise Rejected("corrupt_image", f"{type(error).__name__}: {error}") from None


def _check_jpeg_end(data: bytes, kind: Kind) -> None:
    # WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES on import, which
    # makes load() pad a cut-off JPEG silently: check its end-of-image marker ourselves.
    if kind == "jpeg" and not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9"):
        raise Rejected("corrupt_image", "JPEG without its end-of-image marker")


def _check_decoded_bytes(image: Image.Image, data: bytes, kind: Kind) -> None:
    """Refuse what would take too much memory once decoded, from the header alone.

    Pixels are not enough: a 16-bit RGBA PNG costs 8 bytes a pixel, so 49 Mpx of zeros
    (381 KB on the wire) decode to 392 MB. The cost is the larger of what the file
    declares (bit depth × channels) and what Pillow holds (one byte per band, at least).
    """
    width, height = image.size
    declared_bits = 8 * len(image.getbands())
    if kind == "png" and data[12:16] == b"IHDR":
        bit_depth, color_type = data[24], data[25]
        declared_bits = bit_depth * _PNG_CHANNELS.get(color_type, 4)
    bytes_per_pixel = max(declared_bits / 8, len(image.getbands()))
    decoded = int(width * height * bytes_per_pixel)
    if decoded > IMAGE_MAX_DECODED_BYTES:
        raise Rejected("image_bomb", f"{width}x{height}, {decoded} bytes once decoded")


# Channels per PNG colour type (grey, RGB, palette, grey+alpha, RGBA).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _check_pixels(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise Rejected("corrupt_image", f"{width}x{height}")
    if width * height > IMAGE_MAX_PIXELS:
        raise Rejected("image_bomb", f"{width}x{height}")


# --- XML


class _RootOnly:
    """An expat target that remembers the root element and builds no tree (constant memory).

    It also notes whether a ClinicalDocument appears anywhere: a French "auto-presentable"
    CDA is an XSL stylesheet that carries the document inside it.
    """

    def __init__(self) -> None:
        self.root: str | None = None
        self.carries_cda = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if self.root is None:
            self.root = tag
        if tag == CDA_ROOT:
            self.carries_cda = True

    def end(self, tag: str) -> None:
        pass

    def data(self, text: str) -> None:
        pass

    def close(self) -> str | None:
        return self.root


def _inspect_xml(data: bytes, head: str, declared_name: str) -> Inspection:
    # Cheap look at the first tag first, so that an HTML page or an SVG image
    # gets its own answer even when it opens with a DOCTYPE.
    first = _first_tag_name(head)
    if first is not None:
        local = first.rsplit(":", 1)[-1].lower()
        if local == "svg":
            raise Rejected("svg")
        if local in _HTML_TAGS:
            raise Rejected("unsupported_type", f"HTML in {declared_name!r}")
    scan = _xml_scan(data)
    root = scan.root or ""
    local = root.rsplit("}", 1)[-1].lower()
    if local == "svg":
        raise Rejected("svg")
    if local == "html":
        raise Rejected("unsupported_type", f"XHTML in {declared_name!r}")
    if root.startswith("{http://hl7.org/fhir}"):
        # FHIR in its XML form (e.g. the IPS example bundles): the FHIR parser reads it.
        return Inspection(kind="fhir", mime_type="application/fhir+xml")
    if root in _XSL_ROOTS and scan.carries_cda:
        # Auto-presentable CDA: the parser reads the ClinicalDocument inside; the stylesheet never runs.
        return Inspection(kind="cda", mime_type=MIME_TYPES["cda"])
    if root != CDA_ROOT:
        raise Rejected("not_cda", f"root element {root}")
    return Inspection(kind="cda", mime_type=MIME_TYPES["cda"])


_XSL_ROOTS = {"{http://www.w3.org/1999/XSL/Transform}stylesheet", "{http://www.w3.org/1999/XSL/Transform}transform"}


_MARKUP_SKIPS = (("<?", "?>"), ("<!--", "-->"))
_DOCTYPE_NAME = re.compile(r"<!DOCTYPE\s+([^\s>\[]+)", re.IGNORECASE)
_TAG_NAME = re.compile(r"<([A-Za-z_][\w.:-]*)")


def _first_tag_name(head: str) -> str | None:
    """The DOCTYPE's name or the first element's name, skipping declarations and comments."""
    text = head
    while True:
        text = text.lstrip()
        for opening, closing in _MARKUP_SKIPS:
            if text.startswith(opening):
                end = text.find(closing)
                if end < 0:
                    return None
                text = text[end + len(closing) :]
                break
        else:
            match = _DOCTYPE_NAME.match(text) or _TAG_NAME.match(text)
            return match.group(1) if match else None


def _xml_scan(data: bytes) -> _RootOnly:
    # defusedxml refuses any DTD: that blocks entity expansion (billion
    # laughs) and external entities (XXE) before expat resolves anything. No
    # health document we accept needs a DTD.
    target = _RootOnly()
    parser = DefusedXMLParser(target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        for start in range(0, len(data), _XML_FEED_BYTES):
            parser.feed(data[start : start + _XML_FEED_BYTES])
        parser.close()  # raises on a malformed end; the root is the target's (the stubs expect a tree)
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as error:
        raise Rejected("xml_entities", type(error).__name__) from None
    except (ParseError, ValueError, UnicodeError, LookupError) as error:
        raise Rejected("malformed_xml", str(error)) from None
    if target.root is None:
        raise Rejected("malformed_xml", "no root element")
    return target


# --- JSON


def _reject_constant(name: str) -> None:
    # NaN and Infinity are not JSON (RFC 8259), whatever Python's json accepts.
    raise ValueError(f"{name} is not JSON")


def _inspect_json(data: bytes) -> Inspection:
    try:
        # RFC 8259: JSON between systems is UTF-8; a BOM is tolerated.
        document = json.loads(data.decode("utf-8-sig"), parse_constant=_reject_constant)
    except (ValueError, UnicodeError, RecursionError) as error:
        raise Rejected("malformed_json", type(error).__name__) from None
    resource_type = document.get("resourceType") if isinstance(document, dict) else None
    if not isinstance(resource_type, str) or not _FHIR_RESOURCE_TYPE.fullmatch(resource_type):
        raise Rejected("not_fhir", "no resourceType")
    return Inspection(kind="fhir", mime_type=MIME_TYPES["fhir"])


# --- Text and previews ------------------------------------------------------------------
#
# A PDF is opened once in the worker: PDFium (C) renders the first page and extracts the
# text of every page in the same pass. pypdf's pure-Python text extraction took 60-130 ms
# per real report, more than everything else the import does; PDFium takes a few ms.


@dataclass(frozen=True, slots=True)
class PdfContent:
    text: str
    preview: bytes | None  # PNG of the first page, None when it could not be drawn
    first_page_text: str = ""  # the first page alone: where a report states its date of care
    metadata: dict[str, str] = field(default_factory=dict)  # the information keys asked for, when set


def read_pdf(
    *, data: bytes, max_chars: int = 200_000, preview_px: int | None = 800, metadata_keys: tuple[str, ...] = ()
) -> PdfContent:
    """Text (whitespace collapsed, at most ``max_chars``) and first-page preview, from one PDFium pass;
    also the first page's text, and the values of the document-information keys ``metadata_keys``.

    What could be read, never an error: an unreadable or encrypted PDF has no text and no preview.
    """
    image = None
    with _PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except Exception:  # an unreadable PDF simply has no text
            logger.info("PDF: file unreadable", exc_info=True)
            return PdfContent(text="", preview=None)
        try:
            # Refused at upload; here too nothing is read from one (even with an empty password).
            if pdfium.raw.FPDF_GetSecurityHandlerRevision(document.raw) != -1:
                return PdfContent(text="", preview=None)
            if preview_px:
                try:
                    image = _render_first_page(document, preview_px)
                except Exception:  # a preview is optional: a bad page gets none
                    logger.info("preview of a PDF failed", exc_info=True)
            text, first_page = _pdfium_text(document, max_chars) if max_chars > 0 else ("", "")
            metadata = {key: value for key in metadata_keys if (value := _metadata_value(document, key))}
        finally:
            document.close()
    preview = None
    if image is not None:
        try:
            preview = _to_png(image, preview_px or 0)
        except Exception:
            logger.info("preview of a PDF failed", exc_info=True)
    return PdfContent(text=text, preview=preview, first_page_text=first_page, metadata=metadata)


def extract_pdf_text(*, data: bytes, max_chars: int = 200_000) -> str:
    """The PDF's text, whitespace collapsed, at most ``max_chars``; what could be read, never an error."""
    return read_pdf(data=data, max_chars=max_chars, preview_px=None).text


def _metadata_value(document: pdfium.PdfDocument, key: str) -> str:
    try:
        return document.get_metadata_value(key).strip()
    except Exception:  # an odd information dictionary: the key is simply not read
        logger.info("PDF metadata: key %s unreadable", key, exc_info=True)
        return ""


def _pdfium_text(document: pdfium.PdfDocument, max_chars: int) -> tuple[str, str]:
    """All pages' text and the first page's (empty when the first page has none)."""
    parts: list[str] = []
    first_page = ""
    total = 0
    for index in range(len(document)):
        try:
            page = document[index]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_bounded()
                finally:
                    textpage.close()
            finally:
                page.close()
        except Exception:  # one odd page must not lose the others
            logger.info("PDF text: page %s unreadable", index + 1, exc_info=True)
            continue
        text = _clean_text(text)
        if index == 0:
            first_page = text
        if text:
            parts.append(text)
            total += len(text) + 1
        if total >= max_chars:
            break
    return " ".join(parts)[:max_chars], first_page[:max_chars]


def _clean_text(text: str) -> str:
    # Keep printable characters only: NUL cannot be stored in PostgreSQL text,
    # and lone surrogates cannot be encoded to UTF-8.
    printable = "".join(char for char in text if char.isprintable() or char.isspace())
    return " ".join(printable.split())


def render_preview(*, data: bytes, kind: str, max_px: int = 800) -> bytes | None:
    """A PNG preview (first page, or the image) whose longest side is at most ``max_px``; None if none."""
    if kind == "pdf":
        return read_pdf(data=data, max_chars=0, preview_px=max_px).preview
    try:
        if kind in ("jpeg", "png"):
            return _to_png(_render_image(data, max_px), max_px)
        return None
    except Exception:  # a preview is optional: a bad file gets none
        logger.info("preview of a %s failed", kind, exc_info=True)
        return None


def decode_image(*, data: bytes, kind: Kind, preview_px: int = 800) -> bytes | None:
    """The worker's check of an image's pixel data, and its PNG preview, from one decode.

    The request read headers and checksums only (``inspect_content``); here every byte of
    scan data is decoded, at the preview's scale for a JPEG (DCT scaling reads the whole
    stream all the same), so damaged data is refused (``Rejected``) and the preview costs
    no second decode. The header limits are checked again before any pixel is decoded.
    """
    pillow_format = "PNG" if kind == "png" else "JPEG"
    with _pillow_refusals(), Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
        _check_pixels(*image.size)
        _check_decoded_bytes(image, data, kind)
        if kind == "jpeg":
            image.draft("RGB", (preview_px, preview_px))
        image.load()
        # Phones store portrait photos sideways plus an orientation tag.
        oriented = ImageOps.exif_transpose(image)
    _check_jpeg_end(data, kind)
    try:
        return _to_png(oriented, preview_px)
    except Exception:  # the pixels are sound; a preview is optional
        logger.info("preview of a %s failed", kind, exc_info=True)
        return None


def _render_first_page(document: pdfium.PdfDocument, max_px: int) -> Image.Image:
    page = document[0]
    try:
        width, height = page.get_size()
        scale = max_px / max(width, height, 1.0)
        bitmap = page.render(scale=scale)
        return bitmap.to_pil().copy()  # own the pixels before PDFium frees its buffer
    finally:
        page.close()


def _render_image(data: bytes, max_px: int) -> Image.Image:
    with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as image:
        _check_pixels(*image.size)
        _check_decoded_bytes(image, data, "png" if image.format == "PNG" else "jpeg")
        if image.format == "JPEG":
            image.draft("RGB", (max_px, max_px))  # decode at a reduced scale directly
        # Phones store portrait photos sideways plus an orientation tag.
        return ImageOps.exif_transpose(image)


def _to_png(image: Image.Image, max_px: int) -> bytes:
    image.thumbnail((max_px, max_px))
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        has_alpha = image.mode in ("PA", "RGBa", "La") or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    # Copy the pixels alone into a fresh image: no EXIF (GPS position, camera),
    # no text chunks, no ICC profile travel into the preview.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    output = io.BytesIO()
    # zlib level 1: a third of the default level's time for previews a few % larger.
    clean.save(output, format="PNG", compress_level=1)
    return output.getvalue()


# --- Virus scanning -----------------------------------------------------------------------

_CLAMD_CHUNK_BYTES = 64 * 1024
_CLAMD_REPLY_MAX_BYTES = 4096


def clamav_scan(*, data: bytes, address: str, timeout: float = 30) -> str | None:
    """Scan with clamd (INSTREAM). The virus name if infected, None if clean.

    ``address`` is ``host:port`` (``[::1]:3310`` for IPv6) or the path of a
    Unix socket. Raises ``ScanUnavailable`` when clamd cannot be reached or
    gives no verdict (including clamd's own errors, e.g. a file above its
    StreamMaxLength): the caller keeps the file and tries again later.
    """
    try:
        with _clamd_connect(address, timeout) as connection:
            try:
                _clamd_send(connection, data)
            except OSError:
                # clamd closes the stream early when it refuses it (size
                # limit); its reply, if any, says why.
                logger.info("clamd closed the stream early", exc_info=True)
            reply = _clamd_reply(connection)
    except OSError as error:
        raise ScanUnavailable(f"clamd at {address} unreachable: {error}") from error
    return _clamd_verdict(reply)


def _clamd_connect(address: str, timeout: float) -> socket.socket:
    if address.startswith("/"):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(timeout)
        try:
            connection.connect(address)
        except OSError:
            connection.close()
            raise
        return connection
    host, separator, port = address.rpartition(":")
    if not separator or not host or not port.isdigit():
        raise ImproperlyConfigured(f"CLAMAV_ADDRESS must be host:port or a Unix socket path, got {address!r}.")
    connection = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
    connection.settimeout(timeout)
    return connection


def _clamd_send(connection: socket.socket, data: bytes) -> None:
    # The "z" form: the command and clamd's reply are NUL-terminated.
    connection.sendall(b"zINSTREAM\0")
    view = memoryview(data)
    for start in range(0, len(view), _CLAMD_CHUNK_BYTES):
        chunk = view[start : start + _CLAMD_CHUNK_BYTES]
        connection.sendall(struct.pack(">I", len(chunk)))
        connection.sendall(chunk)
    connection.sendall(struct.pack(">I", 0))  # end of stream


def _clamd_reply(connection: socket.socket) -> str:
    received = b""
    while b"\0" not in received and len(received) < _CLAMD_REPLY_MAX_BYTES:
        chunk = connection.recv(_CLAMD_REPLY_MAX_BYTES)
        if not chunk:
            break
        received += chunk
    return received.split(b"\0", 1)[0].decode("utf-8", errors="replace").strip()


def _clamd_verdict(reply: str) -> str | None:
    # "stream: OK" or "stream: Eicar-Test-Signature FOUND"; anything else
    # ("... ERROR", nothing at all) is no verdict.
    if reply == "stream: OK":
        return None
    if reply.startswith("stream: ") and reply.endswith(" FOUND"):
        return reply[len("stream: ") : -len(" FOUND")].strip() or "unknown"
    raise ScanUnavailable(f"clamd gave no verdict: {reply!r}")
