"""CDA R2 (HL7 C-CDA, French CI-SIS) → ParsedDocument.

The XML is read through the hardened parser of ``xmlsafe`` (no entities, no DTD, no
network); ``xml-stylesheet`` instructions and ``schemaLocation`` are never followed, and
the stylesheet of an "auto-presentable" document is never run: only the
``ClinicalDocument`` it carries is read.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import date

from lxml import etree

from apps.clinical.parsing import ParsedDocument, ParsedFact, ParseError, PatientIdentity

from .cda_facts import (
    LOINC_OID,
    NS,
    V3,
    Element,
    Narrative,
    allergy_facts,
    coded,
    condition_facts,
    flat_text,
    immunization_facts,
    ivl_end,
    local,
    medication_facts,
    observation_facts,
    procedure_facts,
    section_code,
    texts,
    top_statement,
    ts_date,
)
from .cda_templates import (
    ALLERGY_CONCERNS,
    ALLERGY_OBSERVATIONS,
    DIAGNOSIS_ACTS,
    GENERIC_CONCERNS,
    IMMUNIZATIONS,
    LAB_SECTION_TEMPLATES,
    MEDICATIONS,
    NARRATIVE_DIAGNOSIS_SECTIONS,
    PRESCRIPTION_ITEMS,
    PROBLEM_CONCERNS,
    PROBLEM_OBSERVATIONS,
    PROCEDURE_NOTE_TYPES,
    PROCEDURES,
    RESULTS,
    SECTION_CATEGORIES,
    SECTION_KINDS,
    template_ids,
)
from .common import INS_OIDS, collapse, make_fact, partial_date, sex_code
from .eprescription import is_prescription_item, prescription_facts
from .xmlsafe import parse_xml

PDF_MAGIC = b"%PDF"
CDA_TAG = f"{{{V3}}}ClinicalDocument"
XSL = "http://www.w3.org/1999/XSL/Transform"
# HL7 extensions namespace (sdtc:deceasedInd, sdtc:deceasedTime on the patient).
SDTC = "urn:hl7-org:sdtc"


def clinical_document(root: Element) -> Element:
    """The ClinicalDocument: the root, or the one an auto-presentable stylesheet carries.

    A French "auto-presentable" CDA (ANS CI-SIS) is an ``xsl:stylesheet`` that holds the
    document in a data element and displays itself; we look for the element, never
    transform anything.
    """
    if root.tag == CDA_TAG:
        return root
    name = etree.QName(root)
    if name.namespace == XSL and name.localname in ("stylesheet", "transform"):
        inner = next(root.iter(CDA_TAG), None)
        if inner is not None:
            return inner
        raise ParseError("not_cda", "stylesheet without a ClinicalDocument")
    raise ParseError("not_cda", f"root element is {name.localname}, not ClinicalDocument")


def parse_cda(content: bytes) -> ParsedDocument:
    root = clinical_document(parse_xml(content))
    narrative = Narrative(root, language=document_language(root))
    document = ParsedDocument(format="cda", patient=patient_identity(root))
    _describe(document, root)
    document.facts = body_facts(root, narrative)
    document.facts += documented_procedures(root, narrative, document.facts)
    document.text = narrative_text(root)
    document.embedded_pdf = embedded_pdf(root)
    return document


# --- header -------------------------------------------------------------------------------------


def patient_identity(root: Element) -> PatientIdentity:
    role = root.find("h:recordTarget/h:patientRole", NS)
    if role is None:
        return PatientIdentity()
    identifiers = [
        (f"urn:oid:{ident.get('root')}", ident.get("extension", ""))
        for ident in role.findall("h:id", NS)
        if ident.get("root") and ident.get("extension")
    ]
    ins = next((value for system, value in identifiers if system.removeprefix("urn:oid:") in INS_OIDS), "")
    patient = role.find("h:patient", NS)
    name = patient.find("h:name", NS) if patient is not None else None
    gender = patient.find("h:administrativeGenderCode", NS) if patient is not None else None
    deceased, deceased_on = _deceased(patient)
    return PatientIdentity(
        family_name=_family_name(name),
        given_names=_given_names(name),
        birth_date=ts_date(patient.find("h:birthTime", NS)) if patient is not None else None,
        sex=_sex(gender),
        ins=ins,
        identifiers=identifiers,
        deceased=deceased,
        deceased_on=deceased_on,
    )


def _deceased(patient: Element | None) -> tuple[bool, date | None]:
    """(deceased, date of death) from ``sdtc:deceasedInd`` / ``sdtc:deceasedTime``.

    A date of death says the person died even without the indicator.
    """
    if patient is None:
        return False, None
    indicator = patient.find(f"{{{SDTC}}}deceasedInd")
    time = patient.find(f"{{{SDTC}}}deceasedTime")
    died_on = partial_date(time.get("value", "")) if time is not None and time.get("value") else None
    return (indicator is not None and indicator.get("value") == "true") or died_on is not None, died_on


def document_language(root: Element) -> str:
    """The document's language as a two-letter code ("fr-FR" → "fr"), "" when not said."""
    language = root.find("h:languageCode", NS)
    return (language.get("code", "") if language is not None else "").split("-")[0].lower()


def _family_name(name: Element | None) -> str:
    """The birth name (``qualifier="BR"``, an INS identity trait) when given, else the first."""
    families = name.findall("h:family", NS) if name is not None else []
    chosen = next((family for family in families if family.get("qualifier") == "BR"), None)
    chosen = chosen if chosen is not None else next(iter(families), None)
    return collapse(chosen.text) if chosen is not None else ""


def _given_names(name: Element | None) -> str:
    """Unqualified given names (CI-SIS lists all birth given names there), else non-nicknames.

    ``CL`` (call me) is a nickname or used first name, not an identity trait.
    """
    givens = name.findall("h:given", NS) if name is not None else []
    chosen = [given for given in givens if not given.get("qualifier")] or [
        given for given in givens if given.get("qualifier") != "CL"
    ]
    return " ".join(collapse(given.text) for given in chosen if collapse(given.text))


def _sex(gender: Element | None) -> str:
    code = gender.get("code", "") if gender is not None else ""
    return sex_code(code) if code in ("F", "M") else ("U" if code else "")


def _describe(document: ParsedDocument, root: Element) -> None:
    code = root.find("h:code", NS)
    if code is not None:
        # type_code is the LOINC document type; other systems (e.g. CI-SIS CERT_DECL) keep only the label.
        document.type_code = code.get("code", "") if code.get("codeSystem") == LOINC_OID else ""
        document.type_display = collapse(code.get("displayName"))
    document.title = collapse(root.findtext("h:title", default="", namespaces=NS)) or document.type_display
    document.care_date = ts_date(root.find("h:effectiveTime", NS))
    author = root.find("h:author/h:assignedAuthor", NS)
    document.author_name = _person_name(_descendant(author, "h:assignedPerson/h:name"))
    document.author_profession = _profession(root.find("h:author", NS))
    document.organisation = _organisation(root)


def _descendant(element: Element | None, path: str) -> Element | None:
    return element.find(path, NS) if element is not None else None


def _person_name(name: Element | None) -> str:
    if name is None:
        return ""
    parts = [*name.findall("h:given", NS), *name.findall("h:family", NS)]
    return collapse(" ".join(part.text or "" for part in parts if part.get("qualifier") != "CL")) or collapse(
        "".join(texts(name))
    )


def _profession(author: Element | None) -> str:
    for path in ("h:assignedAuthor/h:code", "h:functionCode"):
        code = _descendant(author, path)
        if code is not None and (code.get("displayName") or code.get("code")):
            return collapse(code.get("displayName") or code.get("code"))
    return ""


def _organisation(root: Element) -> str:
    """The author's organisation (where care happened), else the custodian.

    The custodian is whoever keeps the document: in the French flows it is often the
    national insurer or a host (VAC example: "Assurance Maladie"), not the care provider.
    """
    for path in (
        "h:author/h:assignedAuthor/h:representedOrganization/h:name",
        "h:custodian/h:assignedCustodian/h:representedCustodianOrganization/h:name",
    ):
        name = collapse(root.findtext(path, default="", namespaces=NS))
        if name:
            return name
    return ""


# --- body -----------------------------------------------------------------------------------------


Reader = Callable[[Element, Narrative], list[ParsedFact]]
READERS: dict[str, Reader] = {
    "allergy": allergy_facts,
    "condition": condition_facts,
    "medication": medication_facts,
    "immunization": immunization_facts,
    "procedure": procedure_facts,
    "observation": observation_facts,
}
# Clinical statements an unknown statement may hold (entryRelationship / component targets).
_STATEMENTS = {"act", "observation", "substanceAdministration", "supply", "procedure", "encounter", "organizer"}
_MAX_DEPTH = 6


def body_facts(root: Element, narrative: Narrative) -> list[ParsedFact]:
    """Every fact of the structured body, each entry read once, by template wherever it stands.

    Each section reads only its own entries (a nested section reads its own), so a problem
    inside a concern inside nested sections of both kinds is read once.
    """
    facts: list[ParsedFact] = []
    for section in root.iterfind("h:component/h:structuredBody//h:section", NS):
        fallback = section_kind(section)
        entries = section.findall("h:entry", NS)
        for entry in entries:
            statement = top_statement(entry)
            if statement is not None:
                facts.extend(statement_facts(statement, fallback, narrative))
        if not entries and section_code(section) in NARRATIVE_DIAGNOSIS_SECTIONS:
            facts.extend(narrative_diagnoses(section, _service_date(root)))
    return facts


# Narrative lines that say there is nothing to say.
_NOTHING = {"", "-", "none", "n/a", "na", "no information", "unknown", "néant", "aucun", "aucune", "non renseigné"}
_DIAGNOSIS_MAX_CHARS = 300  # longer is prose, not a diagnosis line


def narrative_diagnoses(section: Element, on: date | None) -> list[ParsedFact]:
    """Uncoded conditions from a diagnosis section that has only narrative: one per list item
    or paragraph, else the whole text; never a code guessed from the words."""
    if section.get("nullFlavor"):
        return []
    text = section.find("h:text", NS)
    if text is None:
        return []
    lines = [flat_text(item) for item in text.iter(f"{{{V3}}}item", f"{{{V3}}}paragraph")] or [flat_text(text)]
    category = SECTION_CATEGORIES[section_code(section)]
    return [
        make_fact(kind="condition", display=line, code_known=False, effective_date=on, category=category)
        for line in dict.fromkeys(lines)
        if line.strip(" .").lower() not in _NOTHING and len(line) <= _DIAGNOSIS_MAX_CHARS
    ]


def documented_procedures(root: Element, narrative: Narrative, facts: list[ParsedFact]) -> list[ParsedFact]:
    """The procedure an operative or procedure note documents (its serviceEvent), unless
    the body already has it as an entry."""
    code = root.find("h:code", NS)
    if code is None or code.get("code") not in PROCEDURE_NOTE_TYPES:
        return []
    found = []
    known = {(fact.code_system, fact.code) for fact in facts if fact.kind == "procedure"}
    for event in root.iterfind("h:documentationOf/h:serviceEvent", NS):
        fields = coded(event.find("h:code", NS), narrative)
        if not fields["code_known"] or (fields["code_system"], fields["code"]) in known:
            continue
        if fields["code_system"] == "http://loinc.org" and fields["code"] in PROCEDURE_NOTE_TYPES:
            continue  # the document's own type repeated, not a procedure
        effective = event.find("h:effectiveTime", NS)
        found.append(
            make_fact(
                kind="procedure",
                **fields,
                status="completed",
                effective_date=ts_date(effective),
                effective_end=ivl_end(effective),
            )
        )
    return found


def _service_date(root: Element) -> date | None:
    """When the documented act (the operation) took place, else the document's date."""
    return ts_date(root.find("h:documentationOf/h:serviceEvent/h:effectiveTime", NS)) or ts_date(
        root.find("h:effectiveTime", NS)
    )


def statement_facts(statement: Element, fallback: str, narrative: Narrative, depth: int = 0) -> list[ParsedFact]:
    """The facts of one clinical statement.

    A statement with a known template is read by its reader, which owns everything inside
    it (a vaccine's reaction, a prescription's steps, an allergy's severity). Without one,
    the section's kind decides; in a section of no kind, the statements it holds are
    looked at in turn (an encounter's diagnoses, an organizer's problem entries).
    """
    kind = statement_kind(statement)
    if kind == "medication" and is_prescription_item(statement):
        return prescription_facts(statement, narrative)
    if kind:
        return READERS[kind](statement, narrative)
    if fallback:
        if fallback == "medication" and is_prescription_item(statement):
            return prescription_facts(statement, narrative)
        return READERS[fallback](statement, narrative)
    if depth >= _MAX_DEPTH:
        return []
    facts: list[ParsedFact] = []
    for relationship in statement:
        if local(relationship) not in ("entryRelationship", "component"):
            continue
        for child in relationship:
            if local(child) in _STATEMENTS:
                facts.extend(statement_facts(child, "", narrative, depth + 1))
    return facts


def statement_kind(statement: Element) -> str:
    """The fact kind a statement's templates declare, "" when none we know.

    Order matters: a CI-SIS allergy also declares the IHE problem entry template, and a
    CCD/CI-SIS vaccination the CCD medication activity template.
    """
    templates = template_ids(statement)
    parent = statement.getparent()
    if parent is not None and local(parent) == "entry":
        templates |= template_ids(parent)  # some CI-SIS examples declare them on the entry
    if templates & (ALLERGY_CONCERNS | ALLERGY_OBSERVATIONS):
        return "allergy"
    if templates & (PROBLEM_CONCERNS | PROBLEM_OBSERVATIONS) or templates & DIAGNOSIS_ACTS.keys():
        return "condition"
    if templates & GENERIC_CONCERNS:
        observations = statement.iterfind("h:entryRelationship/h:observation", NS)
        inner = set().union(*(template_ids(item) for item in observations))
        if inner & ALLERGY_OBSERVATIONS:
            return "allergy"
        return "condition" if inner & PROBLEM_OBSERVATIONS else ""
    if templates & IMMUNIZATIONS:
        return "immunization"
    if templates & (MEDICATIONS | PRESCRIPTION_ITEMS):
        return "medication"
    if templates & PROCEDURES:
        return "procedure"
    if templates & RESULTS:
        return "observation"
    return ""


def section_kind(section: Element) -> str:
    """The fallback kind of a section: its own code or template, else its enclosing section's."""
    for current in (section, *section.iterancestors(f"{{{V3}}}section")):
        if kind := SECTION_KINDS.get(section_code(current)):
            return kind
        if template_ids(current) & LAB_SECTION_TEMPLATES:
            return "observation"
    return ""


def narrative_text(root: Element) -> str:
    """Section titles and narratives, whitespace-collapsed, for search."""
    parts: list[str] = []
    for section in root.iterfind("h:component/h:structuredBody//h:section", NS):
        title = collapse(section.findtext("h:title", default="", namespaces=NS))
        text = section.find("h:text", NS)
        body = collapse(" ".join(texts(text))) if text is not None else ""
        parts.extend(part for part in (title, body) if part)
    return " ".join(parts)


def embedded_pdf(root: Element) -> bytes | None:
    """The first base64 PDF: a nonXMLBody, or an observationMedia value (CI-SIS copy of the report)."""
    candidates = [
        *root.iterfind("h:component/h:nonXMLBody/h:text", NS),
        *root.iterfind(".//h:observationMedia/h:value", NS),
        *root.iterfind(".//h:value[@mediaType='application/pdf']", NS),
    ]
    for element in candidates:
        if element.get("mediaType") != "application/pdf" or element.get("representation") != "B64":
            continue
        try:
            data = base64.b64decode("".join(texts(element)))
        except (binascii.Error, ValueError):
            continue
        if data.startswith(PDF_MAGIC):
            return data
    return None
