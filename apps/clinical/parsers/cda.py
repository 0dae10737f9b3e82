"""CDA R2 (HL7 C-CDA, French CI-SIS) → ParsedDocument.

The XML is read through the hardened parser of ``xmlsafe`` (no entities, no DTD, no
network); ``xml-stylesheet`` instructions and ``schemaLocation`` are never followed.
"""

from __future__ import annotations

import base64
import binascii

from lxml import etree

from apps.clinical.parsing import ParsedDocument, ParsedFact, ParseError, PatientIdentity

from .cda_facts import FACT_READERS, LOINC_OID, NS, V3, Element, Narrative, section_kind, texts, ts_date
from .common import INS_OIDS, collapse, sex_code
from .xmlsafe import parse_xml

PDF_MAGIC = b"%PDF"


def parse_cda(content: bytes) -> ParsedDocument:
    root = parse_xml(content)
    if root.tag != f"{{{V3}}}ClinicalDocument":
        raise ParseError("not_cda", f"root element is {etree.QName(root).localname}, not ClinicalDocument")
    narrative = Narrative(root)
    document = ParsedDocument(format="cda", patient=patient_identity(root))
    _describe(document, root)
    document.facts = body_facts(root, narrative)
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
    return PatientIdentity(
        family_name=_family_name(name),
        given_names=_given_names(name),
        birth_date=ts_date(patient.find("h:birthTime", NS)) if patient is not None else None,
        sex=_sex(gender),
        ins=ins,
        identifiers=identifiers,
    )


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


def body_facts(root: Element, narrative: Narrative) -> list[ParsedFact]:
    facts: list[ParsedFact] = []
    for section in root.iterfind("h:component/h:structuredBody//h:section", NS):
        reader = FACT_READERS.get(section_kind(section))
        if reader is None:
            continue
        for entry in section.findall("h:entry", NS):
            facts.extend(reader(entry, narrative))
    return facts


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
