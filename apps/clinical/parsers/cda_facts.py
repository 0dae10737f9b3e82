"""CDA R2 structured entries → ParsedFact (HL7 C-CDA and French CI-SIS).

The kind of an entry comes from its section (LOINC code, or the IHE laboratory section
templates used by the French lab report); inside an entry the clinical statements are
read the same way for C-CDA and CI-SIS, which share the IHE/CCD entry shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from lxml import etree

from apps.clinical.parsing import ParsedFact

from .common import code_system_uri, collapse, make_fact, partial_date, to_decimal

V3 = "urn:hl7-org:v3"
NS = {"h": V3}
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
Element = etree._Element

SECTION_KINDS = {
    "48765-2": "allergy",  # allergies and adverse reactions
    "11450-4": "condition",  # problem list
    "11348-0": "condition",  # past medical history (CI-SIS "Antécédents médicaux")
    "10160-0": "medication",  # history of medication use
    "42346-7": "medication",  # medications on admission (CI-SIS "Traitements à l'admission")
    "18610-6": "medication",  # medication administered (CI-SIS "Médicaments administrés")
    "10183-2": "medication",  # hospital discharge medications
    "75311-1": "medication",  # discharge medications
    "11369-6": "immunization",  # immunizations / "Historique des vaccinations"
    "30954-2": "observation",  # results
    "8716-3": "observation",  # vital signs
}
# IHE PaLM laboratory specialty / report item sections (CI-SIS BIO-CR-BIO chapters).
LAB_SECTION_TEMPLATES = {"1.3.6.1.4.1.19376.1.3.3.2.1", "1.3.6.1.4.1.19376.1.3.3.2.2"}
STATUS_OBSERVATION_TEMPLATES = {
    "2.16.840.1.113883.10.20.22.4.6",  # problem status
    "2.16.840.1.113883.10.20.22.4.28",  # allergy status
    "1.3.6.1.4.1.19376.1.5.3.1.4.1.1",  # IHE problem status
}
STATUS_CODE = "33999-4"
# When a concern act carries several subject observations (e.g. C-CDA allergy + severity),
# these templates name the one that is the allergy or the problem itself.
ALLERGY_TEMPLATES = {
    "2.16.840.1.113883.10.20.22.4.7",  # C-CDA allergy intolerance observation
    "1.3.6.1.4.1.19376.1.5.3.1.4.6",  # IHE allergy and intolerance (CI-SIS)
    "2.16.840.1.113883.10.20.1.18",  # CCD alert observation
}
PROBLEM_TEMPLATES = {
    "2.16.840.1.113883.10.20.22.4.4",  # C-CDA problem observation
    "1.3.6.1.4.1.19376.1.5.3.1.4.5",  # IHE problem entry (CI-SIS)
    "2.16.840.1.113883.10.20.1.28",  # CCD problem observation
}
LOINC_OID = "2.16.840.1.113883.6.1"


def texts(element: Element) -> list[str]:
    """The text nodes under ``element`` in document order (lxml yields ``str`` when parsing XML)."""
    return [text for text in element.itertext() if isinstance(text, str)]


class Narrative:
    """Resolves ``<reference value="#id"/>`` to the section narrative text it points at."""

    def __init__(self, root: Element) -> None:
        self.by_id = {element.get("ID"): element for element in root.iter() if element.get("ID")}

    def text_of(self, element: Element | None) -> str:
        """The text of an originalText/text element: inline, or the narrative it references."""
        if element is None:
            return ""
        reference = element.find("h:reference", NS)
        if reference is not None and reference.get("value"):
            target = self.by_id.get(reference.get("value", "").lstrip("#"))
            if target is not None:
                return collapse("".join(texts(target)))
        return collapse("".join(texts(element)))


def section_kind(section: Element) -> str:
    """The fact kind of a section: its own code or template, else its enclosing section's."""
    for current in (section, *section.iterancestors(f"{{{V3}}}section")):
        code = current.find("h:code", NS)
        if code is not None and (kind := SECTION_KINDS.get(code.get("code", ""))):
            return kind
        if _template_ids(current) & LAB_SECTION_TEMPLATES:
            return "observation"
    return ""


def _template_ids(element: Element) -> set[str]:
    return {template.get("root", "") for template in element.findall("h:templateId", NS)}


def _child(element: Element | None, path: str) -> Element | None:
    return element.find(path, NS) if element is not None else None


def coded(element: Element | None, narrative: Narrative, fallback_text: str = "") -> dict[str, Any]:
    """display/code/code_system/code_known of a CD-like element, never without a display.

    The code itself, else the first coded translation (a local code with a standard
    translation); without any code, the original text (inline or narrative reference) is
    kept with ``code_known=False``.
    """
    text = narrative.text_of(_child(element, "h:originalText"))
    for candidate in (element, *(element.findall("h:translation", NS) if element is not None else [])):
        if candidate is not None and candidate.get("code") and not candidate.get("nullFlavor"):
            return {
                "code": candidate.get("code"),
                "code_system": code_system_uri(candidate.get("codeSystem")),
                "display": _label(candidate.get("displayName")) or text or fallback_text or candidate.get("code"),
                "code_known": True,
            }
    display = text or _label(element.get("displayName") if element is not None else "") or fallback_text
    return {"display": display or "(no description)", "code_known": False}


def _label(display_name: str | None) -> str:
    """A displayName worth showing: some exports write placeholders such as "????"."""
    label = collapse(display_name)
    return label if label.strip("?") else ""


def ts_date(element: Element | None) -> date | None:
    """A TS or IVL_TS: its value, else its low bound."""
    if element is None:
        return None
    low = element.find("h:low", NS)
    value = element.get("value") or (low.get("value", "") if low is not None else "")
    return partial_date(value) if value else None


def ivl_end(element: Element | None) -> date | None:
    high = _child(element, "h:high")
    return partial_date(high.get("value", "")) if high is not None and high.get("value") else None


def statement_text(statement: Element, narrative: Narrative) -> str:
    return narrative.text_of(_child(statement, "h:text"))


def _status(statement: Element, concern: Element | None) -> str:
    """A nested status observation (Active, Resolved...), else the act's statusCode."""
    if statement.get("negationInd") == "true":
        return "refuted"
    for relationship in statement.findall("h:entryRelationship/h:observation", NS):
        code = relationship.find("h:code", NS)
        if _template_ids(relationship) & STATUS_OBSERVATION_TEMPLATES or (
            code is not None and code.get("code") == STATUS_CODE
        ):
            value = relationship.find("h:value", NS)
            if value is not None:
                return collapse(value.get("displayName") or value.get("code"))
    holder = concern if concern is not None else statement
    status = holder.find("h:statusCode", NS)
    return status.get("code", "") if status is not None else ""


def _top_statement(entry: Element) -> Element | None:
    return next((child for child in entry if isinstance(child.tag, str) and child.tag != f"{{{V3}}}templateId"), None)


def _subject_observations(entry: Element, preferred: set[str]) -> tuple[Element | None, list[Element]]:
    """(the concern act if any, the observations it is about) — or the entry's own observation.

    Subject observations with one of the ``preferred`` templates win over the others
    (a severity observation beside the allergy is not a second allergy).
    """
    top = _top_statement(entry)
    if top is None:
        return None, []
    if etree.QName(top).localname == "observation":
        return None, [top]
    observations = [
        observation
        for relationship in top.findall("h:entryRelationship", NS)
        if relationship.get("typeCode") in (None, "SUBJ")
        and (observation := relationship.find("h:observation", NS)) is not None
    ]
    chosen = [observation for observation in observations if _template_ids(observation) & preferred]
    return top, chosen or observations


# --- allergies and problems ----------------------------------------------------------------


def allergy_facts(entry: Element, narrative: Narrative) -> list[ParsedFact]:
    concern, observations = _subject_observations(entry, ALLERGY_TEMPLATES)
    return [_allergy(observation, concern, narrative) for observation in observations]


def _allergy(observation: Element, concern: Element | None, narrative: Narrative) -> ParsedFact:
    agent = observation.find("h:participant[@typeCode='CSM']/h:participantRole/h:playingEntity", NS)
    text = statement_text(observation, narrative)
    if agent is not None:
        name = collapse(agent.findtext("h:name", default="", namespaces=NS))
        fields = coded(agent.find("h:code", NS), narrative, name or text)
    else:
        fields = coded(observation.find("h:value", NS), narrative, text)
    reactions = [
        coded(reaction.find("h:value", NS), narrative, statement_text(reaction, narrative))["display"]
        for reaction in observation.findall("h:entryRelationship[@typeCode='MFST']/h:observation", NS)
    ]
    return make_fact(
        kind="allergy",
        **fields,
        status=_status(observation, concern),
        effective_date=ts_date(observation.find("h:effectiveTime", NS)) or ts_date(_child(concern, "h:effectiveTime")),
        detail=f"reaction: {', '.join(reactions)}" if reactions else "",
    )


def condition_facts(entry: Element, narrative: Narrative) -> list[ParsedFact]:
    concern, observations = _subject_observations(entry, PROBLEM_TEMPLATES)
    facts = []
    for observation in observations:
        effective = observation.find("h:effectiveTime", NS)
        facts.append(
            make_fact(
                kind="condition",
                **coded(observation.find("h:value", NS), narrative, statement_text(observation, narrative)),
                status=_status(observation, concern),
                effective_date=ts_date(effective) or ts_date(_child(concern, "h:effectiveTime")),
                effective_end=ivl_end(effective),
            )
        )
    return facts


# --- medications and immunisations -----------------------------------------------------------


def _administration(entry: Element) -> Element | None:
    """The outermost substanceAdministration (a discharge-medication act may wrap it)."""
    return entry.find(".//h:substanceAdministration", NS)


def _product_fields(administration: Element, narrative: Narrative) -> dict[str, Any]:
    material = administration.find("h:consumable/h:manufacturedProduct/h:manufacturedMaterial", NS)
    name = collapse(material.findtext("h:name", default="", namespaces=NS)) if material is not None else ""
    return coded(_child(material, "h:code"), narrative, name or statement_text(administration, narrative))


def medication_facts(entry: Element, narrative: Narrative) -> list[ParsedFact]:
    administration = _administration(entry)
    if administration is None:
        return []
    period = next(
        (time for time in administration.findall("h:effectiveTime", NS) if time.get(XSI_TYPE, "IVL_TS") == "IVL_TS"),
        None,
    )
    return [
        make_fact(
            kind="medication",
            **_product_fields(administration, narrative),
            status=_status(administration, None),
            effective_date=ts_date(period),
            effective_end=ivl_end(period),
            detail=_dosage(administration),
        )
    ]


def _dosage(administration: Element) -> str:
    parts = []
    dose = administration.find("h:doseQuantity", NS)
    if dose is not None:
        bound = dose if dose.get("value") else dose.find("h:low", NS)
        if bound is not None and bound.get("value"):
            parts.append(f"{bound.get('value')} {_unit(bound.get('unit'))}".replace("{count}", "").strip())
    for time in administration.findall("h:effectiveTime", NS):
        period = time.find("h:period", NS)
        if time.get(XSI_TYPE) == "PIVL_TS" and period is not None and period.get("value"):
            parts.append(f"every {period.get('value')} {period.get('unit', '')}".strip())
    route = administration.find("h:routeCode", NS)
    if route is not None and (route.get("displayName") or route.get("code")):
        parts.append(collapse(route.get("displayName") or route.get("code")))
    return ", ".join(parts)


def immunization_facts(entry: Element, narrative: Narrative) -> list[ParsedFact]:
    administration = _administration(entry)
    if administration is None:
        return []
    lot = administration.findtext(
        "h:consumable/h:manufacturedProduct/h:manufacturedMaterial/h:lotNumberText", default="", namespaces=NS
    )
    negated = administration.get("negationInd") == "true"
    status = administration.find("h:statusCode", NS)
    return [
        make_fact(
            kind="immunization",
            **_product_fields(administration, narrative),
            status="not done" if negated else (status.get("code", "") if status is not None else ""),
            effective_date=ts_date(administration.find("h:effectiveTime", NS)),
            detail=f"lot {collapse(lot)}" if collapse(lot) else "",
        )
    ]


# --- results and vital signs -------------------------------------------------------------------


def observation_facts(entry: Element, narrative: Narrative) -> list[ParsedFact]:
    """Every result observation of the entry (organizer components, lab act members).

    Observations nested inside another observation (comments, reactions, status) are
    details of their parent, not results of their own.
    """
    observations = [
        observation
        for observation in entry.iter(f"{{{V3}}}observation")
        if next(observation.iterancestors(f"{{{V3}}}observation"), None) is None
    ]
    return [_observation(observation, narrative) for observation in observations]


def _observation(observation: Element, narrative: Narrative) -> ParsedFact:
    interpretation = observation.find("h:interpretationCode", NS)
    container = next(observation.iterancestors(f"{{{V3}}}organizer", f"{{{V3}}}act"), None)
    status = observation.find("h:statusCode", NS)
    return make_fact(
        kind="observation",
        **coded(observation.find("h:code", NS), narrative, statement_text(observation, narrative)),
        status=status.get("code", "") if status is not None else "",
        effective_date=ts_date(observation.find("h:effectiveTime", NS))
        or ts_date(_child(container, "h:effectiveTime")),
        **observation_value(observation.find("h:value", NS), narrative),
        **_reference_range(observation, narrative),
        interpretation=interpretation.get("code", "") if interpretation is not None else "",
    )


def observation_value(value: Element | None, narrative: Narrative) -> dict[str, Any]:
    """PQ → decimal and unit; INT/REAL → decimal; CD/CE/ST/... → text."""
    if value is None or (value.get("nullFlavor") and not len(value)):
        return {}
    value_type = value.get(XSI_TYPE, "").split(":")[-1]
    if value_type in ("PQ", "INT", "REAL"):
        number = to_decimal(value.get("value"))
        if number is not None:
            return {"value_decimal": number, "unit": _unit(value.get("unit"))}
        return {"value_text": collapse(value.get("value"))}
    if value_type == "IVL_PQ":
        low, high = value.find("h:low", NS), value.find("h:high", NS)
        bounds = [f"{b.get('value')} {_unit(b.get('unit'))}".strip() for b in (low, high) if b is not None]
        return {"value_text": " – ".join(bounds)}
    if value_type in ("CD", "CE", "CV", "CO"):
        fields = coded(value, narrative)
        return {"value_text": fields["display"]} if fields["display"] != "(no description)" else {}
    if value_type in ("TS",):
        raw = value.get("value", "")
        return {"value_text": str(partial_date(raw) or raw)}
    if value_type == "BL":
        return {"value_text": value.get("value", "")}
    return {"value_text": narrative.text_of(value) or collapse(value.get("value"))}


def _unit(unit: str | None) -> str:
    return "" if unit in (None, "1") else unit


def _reference_range(observation: Element, narrative: Narrative) -> dict[str, Any]:
    observation_range = observation.find("h:referenceRange/h:observationRange", NS)
    if observation_range is None:
        return {}
    value = observation_range.find("h:value", NS)
    low, high = _child(value, "h:low"), _child(value, "h:high")
    return {
        "reference_low": to_decimal(low.get("value")) if low is not None else None,
        "reference_high": to_decimal(high.get("value")) if high is not None else None,
        "reference_text": narrative.text_of(observation_range.find("h:text", NS)),
    }


FACT_READERS: dict[str, Callable[[Element, Narrative], list[ParsedFact]]] = {
    "allergy": allergy_facts,
    "condition": condition_facts,
    "medication": medication_facts,
    "immunization": immunization_facts,
    "observation": observation_facts,
}
