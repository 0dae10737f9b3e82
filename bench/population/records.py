"""One patient's documents, structured facts and access journal for seed_bench."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from apps.access.policy import Action
from apps.clinical.models import ClinicalFact, FactKind
from apps.records.models import DocumentSource, DocumentStatus
from bench.population import content

DOCUMENT_COLUMNS = (
    "id",
    "uuid",
    "record_id",
    "title",
    "type_code",
    "type_display",
    "category",
    "care_date",
    "author_name",
    "author_profession",
    "organisation",
    "source",
    "status",
    "content_hash",
    "size",
    "mime_type",
    "kind",
    "original_filename",
    "blob_name",
    "extracted_text",
    "created_at",
    "processed_at",
)
FACT_COLUMNS: tuple[str, ...] = (
    "uuid",
    "record_id",
    "source_document_id",
    "kind",
    "code_system",
    "code",
    "display",
    "status",
    "effective_date",
    "value_decimal",
    "value_text",
    "unit",
    "reference_low",
    "reference_high",
    "interpretation",
    "detail",
    "code_known",
    "origin",
    "source_label",
    "created_at",
    "updated_at",
)
HAS_THING_KEY = any(f.attname == "thing_key" for f in ClinicalFact._meta.concrete_fields)
if HAS_THING_KEY:
    FACT_COLUMNS = (*FACT_COLUMNS, "thing_key")

# What people do, roughly: reading documents and lists far more than anything else.
_ACTIONS = [
    (Action.DOCUMENT_READ, 35),
    (Action.DOCUMENT_LIST, 22),
    (Action.RECORD_VIEW, 20),
    (Action.PROFILE_READ, 10),
    (Action.RECORD_LIST, 6),
    (Action.JOURNAL_READ, 3),
    (Action.SETTINGS_READ, 2),
    (Action.DOCUMENT_EDIT, 2),
]
_ACTION_NAMES = [str(a) for a, _w in _ACTIONS]
_ACTION_CUM = list(itertools.accumulate(w for _a, w in _ACTIONS))
_DOCUMENT_ACTIONS = {str(Action.DOCUMENT_READ), str(Action.DOCUMENT_EDIT)}
_IPS = [f"192.0.2.{n}" for n in range(1, 60)] + [f"198.51.100.{n}" for n in range(1, 40)]
_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Version/18.1 Mobile Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.0 Safari/605.1.15",
    "healthspace-pro-connector/2.3",
]


def rand_uuid(rng: random.Random) -> str:
    """A version-4 UUID from the seeded generator (uuid.uuid4 reads the OS: not reproducible)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


@dataclass(frozen=True)
class Actor:
    """Who appears in the journal, with the decision their basis gives."""

    uuid: str
    label: str
    role: str
    basis: str
    reason: str
    purpose: str
    on_behalf_of_uuid: str | None = None
    on_behalf_of_label: str = ""


@dataclass
class PatientPlan:
    index: int
    email: str
    given: str
    family: str
    birth: date
    sex: str
    documents: int
    user_id: int = 0
    user_uuid: str = ""
    record_id: int = 0
    record_uuid: str = ""
    named: bool = False
    caregiver: Actor | None = None
    professionals: list[Actor] = field(default_factory=list)
    document_uuids: list[str] = field(default_factory=list)
    blob_documents: list[tuple[str, str, bytes]] = field(default_factory=list)  # (uuid, name, plaintext)

    @property
    def label(self) -> str:
        return f"{self.given} {self.family}"


def thing_key(code_system: str, code: str, display: str) -> str:
    """The summary's grouping key, as the model computes it (COPY bypasses the field's pre_save)."""
    from apps.clinical import models as clinical_models

    helper = getattr(clinical_models, "thing_key_for", None)
    if helper is not None:
        return helper(code_system, code, display)
    return f"{code_system}|{code}" if code else "text|" + content.fold(display)


class PatientWriter:
    """Streams one patient at a time into the sink's tables."""

    def __init__(
        self,
        *,
        sink,
        chain,
        journal_table,
        pool: content.TextPool,
        today: date,
        journal_per_document: int,
        stranger_pros: list[Actor],
        blobs_per_named: int,
    ) -> None:
        self.documents = sink.table(_document_model(), DOCUMENT_COLUMNS)
        self.facts = sink.table(ClinicalFact, FACT_COLUMNS)
        self.journal = journal_table
        self.chain = chain
        self.pool = pool
        self.today = today
        self.per_document = journal_per_document
        self.strangers = stranger_pros
        self.blobs_per_named = blobs_per_named
        self.next_document_id = 0
        self.fact_count = 0
        self.now = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
        self.as_line = sink.copy

    def write(self, rng: random.Random, patient: PatientPlan) -> None:
        span_days = 3650
        dates = sorted(self.today - timedelta(days=rng.randrange(span_days)) for _ in range(patient.documents))
        origin = dates[0] if dates else self.today
        series: dict[str, content.SeriesState] = {}
        chronic = self._chronic(rng) if patient.named else None
        events: list[tuple] = []
        self._record_created(rng, patient, origin, events)
        previous_obs: list[tuple] = []
        for number, care_date in enumerate(dates):
            doc_id = self.next_document_id
            self.next_document_id += 1
            doc_uuid = rand_uuid(rng)
            code, display, category, title = content.pick_type(rng)
            author, profession = rng.choice(content.AUTHORS)
            organisation = rng.choice(content.ORGANISATIONS)
            header = (
                f"{title}\n{organisation}\n{author}, {profession}\n"
                f"Date : {care_date:%d/%m/%Y}\nPatient : {patient.label}"
            )
            text = self.pool.text(rng, header=header)
            created = datetime.combine(care_date, datetime.min.time(), tzinfo=UTC) + timedelta(
                days=rng.randint(0, 20), seconds=rng.randrange(86400)
            )
            created = min(created, self.now)
            blob_name, content_hash, size, filename = (
                "",
                f"{rng.getrandbits(256):064x}",
                rng.randint(40_000, 900_000),
                "",
            )
            if patient.named and number < self.blobs_per_named:
                pdf = content.minimal_pdf(
                    [title, organisation, f"{author}, {profession}", str(care_date), patient.label]
                )
                blob_name = f"documents/{patient.record_uuid}/{doc_uuid}"
                patient.blob_documents.append((doc_uuid, blob_name, pdf))
                import hashlib

                content_hash, size = hashlib.sha256(pdf).hexdigest(), len(pdf)
            filename = f"{title.lower().replace(' ', '-')}-{care_date:%Y%m%d}.pdf"
            source = DocumentSource.PATIENT if rng.random() < 0.2 else DocumentSource.PROFESSIONAL_SOFTWARE
            self.documents.add(
                (
                    doc_id,
                    doc_uuid,
                    patient.record_id,
                    title,
                    code if code != "OTHER" else "",
                    display,
                    category,
                    care_date,
                    author,
                    profession,
                    organisation,
                    str(source),
                    str(DocumentStatus.READY),
                    content_hash,
                    size,
                    "application/pdf",
                    "pdf",
                    filename,
                    blob_name,
                    text,
                    created,
                    created,
                )
            )
            patient.document_uuids.append(doc_uuid)
            fact_rows = self._facts(rng, patient, chronic, series, origin, category, care_date, previous_obs)
            for kind, system, fcode, fdisplay, status, when, value, unit, low, high, interp, detail in fact_rows:
                fact_row: tuple[object, ...] = (
                    rand_uuid(rng),
                    patient.record_id,
                    doc_id,
                    kind,
                    system,
                    fcode,
                    fdisplay,
                    status,
                    when,
                    value,
                    "",
                    unit,
                    low,
                    high,
                    interp,
                    detail,
                    True,
                    "imported",
                    title,
                    created,
                    created,
                )
                if HAS_THING_KEY:
                    fact_row = (*fact_row, thing_key(system, fcode, fdisplay))
                self.facts.add(fact_row)
            self.fact_count += len(fact_rows)
            self._document_events(rng, patient, doc_uuid, title, created, events)
        events.sort(key=lambda item: item[0])
        add = self.journal.add_line if self.as_line else self.journal.add
        row, record_uuid, as_line = self.chain.row, patient.record_uuid, self.as_line
        for occurred, actor, action, rtype, ruuid, rlabel in events:
            add(
                row(
                    rand_uuid(rng),
                    occurred,
                    actor,
                    record_uuid,
                    action,
                    rtype,
                    ruuid,
                    rlabel,
                    rng.choice(_IPS),
                    rng.choice(_AGENTS),
                    as_line=as_line,
                )
            )

    # --- facts ------------------------------------------------------------------------

    @staticmethod
    def _chronic(rng: random.Random) -> dict[str, list]:
        return {
            "condition": rng.sample(content.CONDITIONS, 5),
            "medication": rng.sample(content.MEDICATIONS, 7),
            "allergy": rng.sample(content.ALLERGIES, 2),
            "immunization": content.IMMUNIZATIONS,
        }

    def _facts(self, rng, patient, chronic, series, origin, category, when, previous_obs) -> list[tuple]:
        if not patient.named:
            if category != "lab_result":
                return []
            return [self._observation(rng, series, row, origin, when) for row in rng.sample(content.LABS, 3)]
        rows: list[tuple] = []
        if category == "lab_result":
            start = rng.randrange(len(content.LABS))
            panel = [content.LABS[(start + i) % len(content.LABS)] for i in range(10)]
            rows = [self._observation(rng, series, row, origin, when) for row in panel]
        else:
            rows = [self._observation(rng, series, row, origin, when) for row in rng.sample(content.VITALS, 3)]
            kinds = ["immunization"] * 7 if category == "vaccination" else ["medication"] * 4 + ["condition"] * 3
            if rng.random() < 0.15:
                kinds[-1] = "allergy"
            rows += [self._item(rng, kind, chronic[kind], when) for kind in kinds]
        # The same result reported again by another source, at the same date (a lab and the GP's letter).
        if previous_obs and rng.random() < 0.15:
            rows[-2:] = rng.sample(previous_obs, min(2, len(previous_obs)))
        previous_obs[:] = [r for r in rows if r[0] == FactKind.OBSERVATION]
        return rows

    def _observation(self, rng, series, row, origin, when) -> tuple:
        state = series.get(row[0])
        if state is None:
            state = series[row[0]] = content.SeriesState.start(rng, row)
        value = state.value(rng, when, origin)
        low = None if state.low is None else content.Decimal(str(state.low))
        high = None if state.high is None else content.Decimal(str(state.high))
        return (
            str(FactKind.OBSERVATION),
            content.LOINC,
            state.code,
            state.display,
            "final",
            when,
            value,
            state.unit,
            low,
            high,
            state.interpretation(value),
            "",
        )

    @staticmethod
    def _item(rng, kind, choices, when) -> tuple:
        code, display = rng.choice(choices)
        system = {"condition": content.SNOMED, "medication": content.ATC, "allergy": content.SNOMED}.get(
            kind, content.CVX
        )
        status = {"condition": "active", "medication": "active", "allergy": "active"}.get(kind, "completed")
        detail = {"medication": "1 comprimé par jour", "allergy": "urticaire"}.get(kind, "")
        # Conditions and allergies are often written without a date.
        effective = None if kind in ("condition", "allergy") and rng.random() < 0.1 else when
        return (kind, system, code, display, status, effective, None, "", None, None, "", detail)

    # --- journal ----------------------------------------------------------------------

    def _stamp(self, rng: random.Random, after: datetime) -> str:
        seconds = max(int((self.now - after).total_seconds()), 1)
        moment = after + timedelta(seconds=rng.randrange(seconds), microseconds=rng.randrange(1_000_000))
        return moment.isoformat(timespec="microseconds")

    def _owner(self, patient: PatientPlan) -> Actor:
        return Actor(patient.user_uuid, patient.label, "patient", "owner", "owner", "self")

    def _record_created(self, rng, patient, origin, events) -> None:
        moment = datetime.combine(origin, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
        events.append(
            (
                moment.isoformat(timespec="microseconds"),
                self._owner(patient),
                str(Action.RECORD_CREATE),
                "record",
                None,
                "",
            )
        )

    def _document_events(self, rng, patient, doc_uuid, title, created, events) -> None:
        owner = self._owner(patient)
        caregiver, pros, strangers = patient.caregiver, patient.professionals, self.strangers
        seconds = max(int((self.now - created).total_seconds()), 1)
        upload = str(Action.DOCUMENT_UPLOAD)
        for number in range(self.per_document):
            draw = rng.random()
            if number == 0:
                actor, action = owner, upload
            else:
                action = rng.choices(_ACTION_NAMES, cum_weights=_ACTION_CUM)[0]
                if draw < 0.03 and strangers:
                    actor = strangers[int(draw * 1000) % len(strangers)]  # a professional without a basis: refused
                elif draw < 0.13 and caregiver is not None:
                    actor = caregiver
                elif draw < 0.38 and pros:
                    actor = pros[int(draw * 1000) % len(pros)]
                else:
                    actor = owner
            moment = created + timedelta(seconds=rng.randrange(seconds), microseconds=rng.randrange(1_000_000))
            if action in _DOCUMENT_ACTIONS or action == upload:
                events.append((moment.isoformat(timespec="microseconds"), actor, action, "document", doc_uuid, title))
            else:
                events.append((moment.isoformat(timespec="microseconds"), actor, action, "record", None, ""))


def _document_model():
    from apps.records.models import Document

    return Document
