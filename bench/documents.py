"""The import pipeline's throughput: a national mix of uploads, and upload → import → visible.

``upload_mix`` builds the files a burst of uploads brings, in the national proportions of
document types (~39% lab results, 23% prescriptions, 9% imaging, 29% other) and in the
formats they really arrive in: text PDFs, French CDA documents (some carrying their PDF),
FHIR bundles and resources, phone photos and screenshots. Each item has its own bytes
(a document already in the record is deduplicated, so a repeated file would measure nothing)
and names the target record's person (a document about someone else is refused).

``measure_import`` uploads such a burst through the one door every uploader uses
(``document_upload``, as the record's owner) and waits until each document is ready or
rejected: by a running Celery worker (``mode="worker"``) or by calling the task's body in
this process (``mode="in_process"``, the pipeline without broker or worker overhead).
"""

from __future__ import annotations

import io
import json
import random
import statistics
import struct
import time
import zlib
from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.records.models import Record

Patient = tuple[str, str, date | str]  # family name, given name(s), birth date

# (share of the mix, category, builder): builders are functions below, by name.
MIX: tuple[tuple[float, str, str], ...] = (
    # Lab results 39%: laboratories send CDA (with the signed PDF inside) or a PDF report.
    (0.20, "lab_result", "cda_lab"),
    (0.10, "lab_result", "pdf_corpus_lab"),
    (0.09, "lab_result", "pdf_lab"),
    # Prescriptions 23%: a one-page PDF from the prescriber's software.
    (0.23, "prescription", "pdf_prescription"),
    # Imaging 9%: the report as CDA with its PDF, photos and screenshots of films and reports.
    (0.03, "imaging", "cda_imaging"),
    (0.04, "imaging", "jpeg_photo"),
    (0.02, "imaging", "png_screenshot"),
    # Other 29%: letters and reports as PDF, structured letters, vaccinations, certificates,
    # unstructured CDA, measurements from apps, patient summaries from other systems.
    (0.10, "other", "pdf_letter"),
    (0.02, "other", "pdf_corpus_other"),
    (0.05, "other", "cda_letter"),
    (0.03, "other", "cda_vaccination"),
    (0.02, "other", "cda_certificate"),
    (0.02, "other", "cda_unstructured"),
    (0.02, "other", "fhir_measure"),
    (0.02, "other", "fhir_ips"),
    (0.01, "other", "fhir_synthea"),
)

_CDA_FILES = {
    "cda_lab": "fr-cda/BIO-CR-BIO_2024.01_TSH_1.xml",
    "cda_imaging": "fr-cda/IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml",
    "cda_letter": "fr-cda/LDL-EES_2022.01.xml",
    "cda_vaccination": "fr-cda/VAC_2023.01.xml",
    "cda_certificate": "fr-cda/CSE-CS8_2024.01.xml",
    "cda_unstructured": "fr-cda/DOC_NON_STRUCTURE_CDA-R2-N1.xml",
}
_INS_OIDS = ("1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.10")
_V3 = "urn:hl7-org:v3"


def _corpus_dir() -> Path:
    from django.conf import settings

    return Path(settings.CORPUS_DIR)


def _birth(patient: Patient) -> date:
    birth = patient[2]
    return birth if isinstance(birth, date) else date.fromisoformat(str(birth))


# --- PDFs -------------------------------------------------------------------------------------

_LAB_LINES = (
    ("Hemoglobine", "g/dL", 11.5, 16.0),
    ("Leucocytes", "G/L", 4.0, 10.0),
    ("Plaquettes", "G/L", 150, 400),
    ("Glycemie a jeun", "mmol/L", 3.9, 6.1),
    ("Creatinine", "umol/L", 45, 90),
    ("Cholesterol LDL", "g/L", 0.8, 1.6),
    ("TSH", "mUI/L", 0.4, 4.0),
    ("Ferritine", "ug/L", 15, 150),
    ("CRP", "mg/L", 0, 5),
    ("HbA1c", "%", 4.0, 6.0),
)
_DRUGS = (
    "PARACETAMOL 1 g, 1 comprime 3 fois par jour pendant 5 jours",
    "AMOXICILLINE 1 g, 1 comprime matin et soir pendant 6 jours",
    "METFORMINE 850 mg, 1 comprime matin et soir, a renouveler 3 mois",
    "RAMIPRIL 5 mg, 1 comprime le matin, a renouveler 3 mois",
    "ATORVASTATINE 20 mg, 1 comprime le soir",
    "IBUPROFENE 400 mg, 1 comprime si douleur, maximum 3 par jour",
    "LEVOTHYROX 75 ug, 1 comprime le matin a jeun",
)


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _text_pdf(pages: list[list[str]]) -> bytes:
    """A small valid PDF, one Helvetica text stream per page (what prescribers' software prints)."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    font_id = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for lines in pages:
        stream = ["BT /F1 10 Tf 50 800 Td 14 TL"]
        stream += [f"({_pdf_escape(line)}) '" for line in lines]
        stream.append("ET")
        content = "\n".join(stream).encode("latin-1", errors="replace")
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R >> >> "
            b"/Contents %d 0 R >>" % (font_id, content_id)
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % kid for kid in kids),
        len(kids),
    )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _header(patient: Patient, title: str, serial: int) -> list[str]:
    family, given, _birth_date = patient
    return [
        title,
        f"Patient : {family.upper()} {given} - ne(e) le {_birth(patient):%d/%m/%Y}",
        f"Reference : {serial:08d}",
        "",
    ]


def pdf_lab(rng: random.Random, patient: Patient, serial: int) -> tuple[str, bytes]:
    pages = []
    for page in range(rng.randint(1, 3)):
        lines = _header(patient, f"COMPTE RENDU D'EXAMENS BIOLOGIQUES - page {page + 1}", serial)
        for name, unit, low, high in rng.sample(_LAB_LINES, 7):
            value = rng.uniform(low * 0.8, high * 1.2)
            lines.append(f"{name:<24} {value:8.2f} {unit:<8} ({low} - {high})")
        pages.append([*lines, "", "Biologiste responsable : Dr Laboratoire", "Valide electroniquement."])
    return f"resultats-labo-{serial}.pdf", _text_pdf(pages)


def pdf_prescription(rng: random.Random, patient: Patient, serial: int) -> tuple[str, bytes]:
    lines = _header(patient, "ORDONNANCE", serial)
    lines += [f"- {drug}" for drug in rng.sample(_DRUGS, rng.randint(1, 4))]
    lines += ["", f"Fait le {rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2025", "Dr Medecin Generaliste"]
    return f"ordonnance-{serial}.pdf", _text_pdf([lines])


def pdf_letter(rng: random.Random, patient: Patient, serial: int) -> tuple[str, bytes]:
    words = [
        "patient",
        "suivi",
        "consultation",
        "traitement",
        "bilan",
        "examen",
        "clinique",
        "douleur",
        "tension",
        "poids",
        "evolution",
    ]
    pages = []
    for page in range(rng.randint(1, 3)):
        lines = _header(patient, f"COURRIER DE CONSULTATION - page {page + 1}", serial)
        lines += [" ".join(rng.choice(words) for _ in range(14)) for _ in range(40)]
        pages.append(lines)
    return f"courrier-{serial}.pdf", _text_pdf(pages)


@cache
def _corpus_pdf(name: str) -> bytes:
    return (_corpus_dir() / "pdf" / name).read_bytes()


def _varied_pdf(data: bytes, serial: int) -> bytes:
    # A comment after the last %%EOF: the same document for every reader, other bytes.
    return data + b"\n%% healthspace bench %d\n" % serial


def pdf_corpus_lab(rng: random.Random, patient: Patient, serial: int) -> tuple[str, bytes]:
    name = rng.choice(("fr-cr-biologie-tsh-fop.pdf", "fr-cr-biologie-word.pdf"))
    return f"cr-biologie-{serial}.pdf", _varied_pdf(_corpus_pdf(name), serial)


def pdf_corpus_other(rng: random.Random, patient: Patient, serial: int) -> tuple[str, bytes]:
    return f"compte-rendu-{serial}.pdf", _varied_pdf(_corpus_pdf("hl7-ud-sample.pdf"), serial)


# --- CDA --------------------------------------------------------------------------------------


@cache
def _cda_for(relative: str, patient: Patient) -> bytes:
    """The corpus document rewritten to name ``patient`` (the test INS removed: the record has none)."""
    from lxml import etree

    root = etree.fromstring((_corpus_dir() / relative).read_bytes(), etree.XMLParser(resolve_entities=False))
    ns = {"h": _V3}

    def child(parent: etree._Element, path: str) -> etree._Element:
        found = parent.find(path, ns)
        if found is None:  # the corpus is fixed: a document without a patient cannot be rewritten
            raise ValueError(f"{relative}: no {path} under {parent.tag}")
        return found

    role = child(root, "h:recordTarget/h:patientRole")
    for ident in role.findall("h:id", ns):
        if ident.get("root") in _INS_OIDS:
            role.remove(ident)
    person = child(role, "h:patient")
    name = child(person, "h:name")
    for family in name.findall("h:family", ns):
        family.text = patient[0]
    for given in name.findall("h:given", ns):
        given.text = patient[1]
    child(person, "h:birthTime").set("value", _birth(patient).strftime("%Y%m%d"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _varied_xml(data: bytes, serial: int) -> bytes:
    declaration_end = data.index(b"?>") + 2
    return data[:declaration_end] + b"\n<!-- healthspace bench %d -->" % serial + data[declaration_end:]


def _cda_builder(key: str):
    def build(rng: random.Random, patient: Patient, serial: int) -> tuple[str, bytes]:
        return f"{key.replace('_', '-')}-{serial}.xml", _varied_xml(_cda_for(_CDA_FILES[key], patient), serial)

    build.__name__ = key
    return build


cda_lab = _cda_builder("cda_lab")
cda_imaging = _cda_builder("cda_imaging")
cda_letter = _cda_builder("cda_letter")
cda_vaccination = _cda_builder("cda_vaccination")
cda_certificate = _cda_builder("cda_certificate")
cda_unstructured = _cda_builder("cda_unstructured")


# --- FHIR -------------------------------------------------------------------------------------


@cache
def _json(relative: str) -> str:
    return (_corpus_dir() / relative).read_text(encoding="utf-8")


def _rename_patients(bundle: dict, patient: Patient) -> None:
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {})
        if resource.get("resourceType") == "Patient":
            resource["name"] = [{"use": "official", "family": patient[0], "given": patient[1].split()}]
            resource["birthDate"] = _birth(patient).isoformat()
            resource["identifier"] = [
                ident
                for ident in resource.get("identifier", [])
                if not str(ident.get("system", "")).endswith(_INS_OIDS)
            ]


def fhir_measure(rng: random.Random, patient: Patient, serial: int) -> tuple[str, bytes]:
    # A lone measurement from an app names nobody: it contradicts no record.
    observation = json.loads(_json("fr-fhir/Observation-ExampleMesFrObservationBP001.json"))
    observation["id"] = f"bench-{serial}"
    return f"tension-{serial}.json", json.dumps(observation).encode()


def fhir_ips(rng: random.Random, patient: Patient, serial: int) -> tuple[str, bytes]:
    bundle = json.loads(_json("ips/ips-bundle-minimal.json"))
    _rename_patients(bundle, patient)
    bundle["id"] = f"bench-{serial}"
    return f"synthese-{serial}.json", json.dumps(bundle).encode()


_SYNTHEA = (
    "Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json",
    "Buster_Hoeger_ad2e3fc5-2b5d-4cb9-8d03-9ea0f4ac8423.json",
    "Gustavo_Mejia_59a8543c-e24f-4a01-b28b-47ccde6bc11d.json",
)


def fhir_synthea(rng: random.Random, patient: Patient, serial: int) -> tuple[str, bytes]:
    bundle = json.loads(_json(f"synthea-fhir-r4/{rng.choice(_SYNTHEA)}"))
    _rename_patients(bundle, patient)
    bundle["id"] = f"bench-{serial}"
    return f"export-{serial}.json", json.dumps(bundle).encode()


# --- Images -----------------------------------------------------------------------------------


@cache
def _photo() -> bytes:
    """A 12 Mpx phone photo of a paper report (3024 × 4032, ~q85): the common imaging upload."""
    from PIL import Image, ImageDraw, ImageFilter

    image = Image.effect_noise((756, 1008), 40).convert("RGB").resize((3024, 4032))
    draw = ImageDraw.Draw(image)
    for row in range(60, 4000, 64):
        draw.line([(200, row), (2800, row)], fill=(30, 30, 30), width=6)
    output = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(1)).save(output, format="JPEG", quality=85)
    return output.getvalue()


@cache
def _screenshot() -> bytes:
    """A phone screenshot of a results page (1170 × 2532 PNG)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1170, 2532), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    for row in range(100, 2500, 48):
        draw.rectangle([(60, row), (60 + (row * 7) % 1000, row + 20)], fill=(40, 60, 90))
    output = io.BytesIO()
    image.save(output, format="PNG")
    return output.getvalue()


def jpeg_photo(rng: random.Random, patient: Patient, serial: int) -> tuple[str, bytes]:
    data = _photo()
    comment = b"healthspace bench %d" % serial
    # A COM segment right after SOI: the same pixels, other bytes.
    return f"IMG_{serial:05d}.jpg", data[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + data[2:]


def png_screenshot(rng: random.Random, patient: Patient, serial: int) -> tuple[str, bytes]:
    data = _screenshot()
    body = b"tEXt" + b"Comment\0healthspace bench %d" % serial
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    after_ihdr = 8 + 25  # signature, then IHDR (length, type, 13 bytes, CRC)
    return f"Capture-{serial}.png", data[:after_ihdr] + chunk + data[after_ihdr:]


# --- The mix ----------------------------------------------------------------------------------


def upload_mix(n: int, seed: int, patient: Patient) -> list[tuple[str, bytes]]:
    """``n`` (filename, bytes) uploads in the national mix, about ``patient``, each with its own bytes."""
    rng = random.Random(seed)
    builders = [globals()[name] for _share, _category, name in MIX]
    weights = [share for share, _category, _name in MIX]
    chosen = rng.choices(builders, weights=weights, k=n)
    base = rng.randrange(1, 10**6) * 10**5
    return [build(rng, patient, base + index) for index, build in enumerate(chosen)]


def mix_counts(items: list[tuple[str, bytes]]) -> dict[str, int]:
    """How many uploads of each format (by file extension): to check a mix at a glance."""
    return dict(Counter(name.rsplit(".", 1)[-1] for name, _data in items))


# --- Measurement ------------------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def bench_owner(*, label: str = "bench-import") -> tuple[User, Record]:
    """A fresh patient account with its own record, for one measurement (no INS: traits are matched)."""
    import uuid

    from apps.accounts.models import User
    from apps.records.models import Record

    suffix = uuid.uuid4().hex[:10]
    user = User.objects.create(email=f"{label}-{suffix}@bench.invalid", display_name="Bench Import")
    record = Record.objects.create(
        owner=user, family_name=f"Bench{suffix}", given_names="Camille", birth_date=date(1975, 6, 15), sex="F"
    )
    return user, record


def measure_import(
    n: int,
    *,
    seed: int = 0,
    owner: User | None = None,
    mode: str = "worker",
    timeout: float = 900.0,
    poll: float = 0.25,
) -> dict:
    """Upload ``n`` documents of the national mix as a burst and wait until each is ready or rejected.

    ``mode="worker"``: a running Celery worker imports them (the uploads hand the tasks to the
    broker as in production). ``mode="in_process"``: nothing is handed to the broker; this
    process runs ``document_process`` for each, in upload order, after the burst.
    Returns throughput (documents/s from the first upload to the last one ready), the
    upload-to-visible latency (Document.created_at → processed_at, p50/p95/max), counts by
    final status, and what was still waiting at the timeout (``lost``: should be 0).
    """
    from django.db.models import Max, Min

    from apps.records import documents
    from apps.records.models import Document, DocumentStatus

    if mode not in ("worker", "in_process"):
        raise ValueError("mode is 'worker' or 'in_process'")
    if owner is None:
        owner, record = bench_owner()
    else:
        record = owner.own_record
    items = upload_mix(n, seed, (record.family_name, record.given_names, record.birth_date))

    enqueue = documents.document_enqueue
    if mode == "in_process":
        documents.document_enqueue = lambda *, document_id: None  # the queue is this loop
    try:
        started = time.monotonic()
        ids = []
        for filename, data in items:
            ids.append(documents.document_upload(actor=owner, record=record, filename=filename, data=data).document.pk)
        uploaded = time.monotonic()
        if mode == "in_process":
            for document_id in ids:
                documents.document_process(document_id=document_id)
    finally:
        documents.document_enqueue = enqueue

    done_states = (DocumentStatus.READY, DocumentStatus.REJECTED)
    deadline = time.monotonic() + timeout
    waiting = Document.objects.filter(pk__in=ids).exclude(status__in=done_states)
    while waiting.exists() and time.monotonic() < deadline:
        time.sleep(poll)
    finished = time.monotonic()

    rows = list(Document.objects.filter(pk__in=ids).values("status", "kind", "created_at", "processed_at"))
    latencies = [(row["processed_at"] - row["created_at"]).total_seconds() for row in rows if row["processed_at"]]
    span = Document.objects.filter(pk__in=ids).aggregate(first=Min("created_at"), last=Max("processed_at"))
    elapsed = (span["last"] - span["first"]).total_seconds() if span["last"] else None
    return {
        "mode": mode,
        "documents": n,
        "distinct_uploads": len(set(ids)),
        "seed": seed,
        "mix": mix_counts(items),
        "upload_seconds": round(uploaded - started, 3),
        "uploads_per_second": round(n / (uploaded - started), 1) if uploaded > started else None,
        "seconds": round(elapsed, 3) if elapsed else None,
        "documents_per_second": round(len(latencies) / elapsed, 1) if elapsed else None,
        "upload_to_visible_p50_s": _round(statistics.median(latencies) if latencies else None),
        "upload_to_visible_p95_s": _round(_percentile(latencies, 0.95)),
        "upload_to_visible_max_s": _round(max(latencies) if latencies else None),
        "by_status": dict(Counter(row["status"] for row in rows)),
        "rejected_by_kind": dict(Counter(row["kind"] for row in rows if row["status"] == DocumentStatus.REJECTED)),
        "lost": sum(1 for row in rows if row["status"] not in done_states),
        "waited_seconds": round(finished - started, 3),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
