"""CDA R2 clinical statements → ParsedFact (HL7 C-CDA, CCD, IHE and French CI-SIS).

Each reader takes one clinical statement (the act, observation, substanceAdministration,
procedure or organizer an entry holds) and returns the facts it carries. Which reader
reads a statement is decided in ``cda.py`` from its templates (``cda_templates``), the
section code being only the fallback. C-CDA and CI-SIS share the IHE/CCD entry shapes,
so one reader serves both.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from lxml import etree

from apps.clinical.parsing import ParsedFact

from .cda_templates import (
    ALLERGY_OBSERVATIONS,
    CRITICALITY_OBSERVATIONS,
    DIAGNOSIS_ACTS,
    GENERIC_MEDICATION_CODES,
    GENERIC_PROBLEM_VALUES,
    IPS_ABSENT_UNKNOWN,
    MORE_ALLERGY_CLASSES,
    NO_KNOWN_DEFAULTS,
    NO_KNOWN_FRENCH,
    PROBLEM_OBSERVATIONS,
    SECTION_CATEGORIES,
    SEVERITY_OBSERVATIONS,
    template_ids,
)
from .common import (
    code_system_uri,
    collapse,
    make_fact,
    negated_substance_label,
    no_known_label,
    partial_date,
    to_decimal,
)

V3 = "urn:hl7-org:v3"
NS = {"h": V3}
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
Element = etree._Element
LOINC_OID = "2.16.840.1.113883.6.1"

STATUS_OBSERVATION_TEMPLATES = {
    "2.16.840.1.113883.10.20.22.4.6",  # problem status
    "2.16.840.1.113883.10.20.22.4.28",  # allergy status
    "1.3.6.1.4.1.19376.1.5.3.1.4.1.1",  # IHE problem status
}
STATUS_CODE = "33999-4"
# Narrative elements that end a line or a cell: their text must not run into the next one.
_BLOCK_TAGS = {"br", "td", "th", "tr", "item", "paragraph", "caption", "list", "table"}


def texts(element: Element) -> list[str]:
    """The text nodes under ``element`` in document order (lxml yields ``str`` when parsing XML)."""
    return [text for text in element.itertext() if isinstance(text, str)]


def local(element: Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def flat_text(element: Element) -> str:
    """Collapsed text of a narrative element; a line break or a cell boundary becomes a space."""
    parts: list[str] = []

    def walk(node: Element) -> None:
        if node.text and isinstance(node.tag, str):
            parts.append(node.text)
        for child in node:
            if isinstance(child.tag, str):
                walk(child)
                if local(child) in _BLOCK_TAGS:
                    parts.append(" ")
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return collapse("".join(parts))


class Narrative:
    """Resolves ``<reference value="#id"/>`` to the section narrative it points at.

    Also carries the document's language ("fr", "en"...), for the few texts a reader has
    to write itself (a posology rebuilt from structured fields, "no known allergies").
    """

    def __init__(self, root: Element, language: str = "") -> None:
        self.by_id = {element.get("ID"): element for element in root.iter() if element.get("ID")}
        self.language = language

    def text_by_id(self, identifier: str | None) -> str:
        target = self.by_id.get((identifier or "").strip().lstrip("#"))
        return flat_text(target) if target is not None else ""

    def text_of(self, element: Element | None) -> str:
        """The text of an originalText/text element: the narrative it references, else inline."""
        if element is None:
            return ""
        reference = element.find("h:reference", NS)
        if reference is not None and reference.get("value"):
            referenced = self.text_by_id(reference.get("value"))
            if referenced:
                return referenced
        return flat_text(element)

    def no_known(self, english: str) -> str:
        """A "no known ..." statement in the document's language (English when not French)."""
        return NO_KNOWN_FRENCH.get(english, english) if self.language == "fr" else english


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


def _code(element: Element | None) -> str:
    """The code of a CD-like element (not a nullFlavor), else ""."""
    if element is None or element.get("nullFlavor"):
        return ""
    return element.get("code", "")


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


def negated(statement: Element) -> bool:
    return statement.get("negationInd") == "true"


def enclosing_sections(statement: Element) -> list[Element]:
    """The sections around ``statement``, innermost first."""
    return list(statement.iterancestors(f"{{{V3}}}section"))


def section_code(section: Element) -> str:
    code = section.find("h:code", NS)
    return code.get("code", "") if code is not None else ""


def _status(statement: Element, concern: Element | None, negation: bool = True) -> str:
    """A nested status observation (Active, Resolved...), else the act's statusCode.

    A negated statement about one thing reads "refuted" (the way FHIR says it); with
    ``negation=False`` ("no known allergies" is a statement that stands) the status is
    the concern's own.
    """
    if negation and negated(statement):
        return "refuted"
    for relationship in statement.findall("h:entryRelationship/h:observation", NS):
        code = relationship.find("h:code", NS)
        if template_ids(relationship) & STATUS_OBSERVATION_TEMPLATES or (
            code is not None and code.get("code") == STATUS_CODE
        ):
            value = relationship.find("h:value", NS)
            if value is not None:
                return collapse(value.get("displayName") or value.get("code"))
    holder = concern if concern is not None else statement
    status = holder.find("h:statusCode", NS)
    status_code = status.get("code", "") if status is not None else ""
    if concern is None and local(statement) == "observation" and status_code == "completed":
        # A problem or allergy observation's own statusCode is always "completed" in C-CDA: it says
        # the observation was recorded, not that the problem is over (only a concern act says that).
        return ""
    return status_code


def top_statement(entry: Element) -> Element | None:
    """The clinical statement an entry holds (its first child that is not a templateId)."""
    return next((child for child in entry if isinstance(child.tag, str) and local(child) != "templateId"), None)


def subject_observations(statement: Element, preferred: set[str]) -> tuple[Element | None, list[Element]]:
    """(the concern act if any, the observations it is about) — or the statement itself.

    Observations with one of the ``preferred`` templates win over the others (a severity
    observation beside the allergy is not a second allergy); they may be linked as subject
    (IHE, C-CDA concern acts) or by reference (C-CDA health concern acts).
    """
    if local(statement) == "observation":
        return None, [statement]
    linked = [
        (relationship.get("typeCode"), observation)
        for relationship in statement.findall("h:entryRelationship", NS)
        if relationship.get("typeCode") in (None, "SUBJ", "REFR")
        and (observation := relationship.find("h:observation", NS)) is not None
    ]
    chosen = [observation for _, observation in linked if template_ids(observation) & preferred]
    return statement, chosen or [observation for type_code, observation in linked if type_code != "REFR"]


# --- allergies ---------------------------------------------------------------------------------


def allergy_facts(statement: Element, narrative: Narrative) -> list[ParsedFact]:
    concern, observations = subject_observations(statement, ALLERGY_OBSERVATIONS)
    return [_allergy(observation, concern, narrative) for observation in observations]


def _no_known_code(element: Element | None) -> str:
    """The shared table's "no known ..." statement for a coded element, else ""."""
    if element is None or not _code(element):
        return ""
    system = element.get("codeSystem", "")
    return no_known_label(IPS_ABSENT_UNKNOWN.get(system) or code_system_uri(system), _code(element))


def _allergen_class(element: Element | None) -> str:
    """The "no known ..." a negated allergy to this generic class makes ("Substance" → none), else ""."""
    if element is None or not _code(element):
        return ""
    system = code_system_uri(element.get("codeSystem"))
    return negated_substance_label(system, _code(element)) or MORE_ALLERGY_CLASSES.get(_code(element), "")


def _allergy(observation: Element, concern: Element | None, narrative: Narrative) -> ParsedFact:
    agent = observation.find("h:participant[@typeCode='CSM']/h:participantRole/h:playingEntity", NS)
    agent_code = _child(agent, "h:code")
    value = observation.find("h:value", NS)
    text = statement_text(observation, narrative)
    name = collapse(agent.findtext("h:name", default="", namespaces=NS)) if agent is not None else ""
    fields = coded(agent_code, narrative, name or text) if agent is not None else coded(value, narrative, text)
    assertion = "present"
    agent_fields = coded(agent_code, narrative, name)
    agent_unnamed = not agent_fields["code_known"] and agent_fields["display"] == "(no description)"
    classes = [label for label in (_allergen_class(agent_code), _allergen_class(value)) if label]
    statement = _no_known_code(value) or _no_known_code(agent_code)
    if statement and not negated(observation):
        assertion, label = "none_known", statement  # an explicit "no known allergy" concept
    elif (
        negated(observation)
        and (agent_unnamed or _allergen_class(agent_code))
        and (not _code(value) or _allergen_class(value))
    ):
        # Negated allergy to a whole class ("Substance", "Drug"): none is known, never an
        # allergy called "Substance". The most specific class says what is denied.
        specific = [label for label in classes if label != NO_KNOWN_DEFAULTS["allergy"]]
        assertion, label = "none_known", (specific or [NO_KNOWN_DEFAULTS["allergy"]])[0]
    elif negated(observation):
        assertion, label = "absent", ""  # "not allergic to penicillin": the display stays the substance
    else:
        label = ""
    if assertion == "none_known":
        fields = coded(value if _code(value) else agent_code, narrative)
        fields["display"] = narrative.no_known(label)
    reactions = [
        coded(reaction.find("h:value", NS), narrative, statement_text(reaction, narrative))["display"]
        for reaction in observation.findall("h:entryRelationship[@typeCode='MFST']/h:observation", NS)
    ]
    return make_fact(
        kind="allergy",
        **fields,
        status=_status(observation, concern, negation=assertion != "none_known"),
        effective_date=ts_date(observation.find("h:effectiveTime", NS)) or ts_date(_child(concern, "h:effectiveTime")),
        detail=f"reaction: {', '.join(reactions)}" if reactions else "",
        assertion=assertion,
        criticality=criticality(observation, concern) if assertion == "present" else "",
    )


_CRITICALITY_CODES = {"CRITH": "high", "CRITL": "low", "CRITU": "unable-to-assess"}
# Severity of the allergy or of its reactions, when no criticality observation says more.
# Severity is not criticality (FHIR keeps them apart), but a severe or life-threatening
# reaction is what a reader needs flagged: anything that may be severe reads as "high".
# severe, fatal, life-threatening, moderate to severe; HL7 SeverityObservation H
_SEVERITY_HIGH = {"24484000", "399166001", "442452003", "371924009", "H"}
_SEVERITY_LOW = {"255604002", "371923003", "6736007", "M", "L"}  # mild, mild to moderate, moderate


def criticality(observation: Element, concern: Element | None) -> str:
    """high / low / unable-to-assess from a criticality observation, else from the severities."""
    scopes = [observation] if concern is None else [observation, concern]
    related = [item for scope in scopes for item in scope.iter(f"{{{V3}}}observation") if item is not observation]
    for item in related:
        if template_ids(item) & CRITICALITY_OBSERVATIONS:
            found = _CRITICALITY_CODES.get(_code(item.find("h:value", NS)))
            if found:
                return found
    severities = {_code(item.find("h:value", NS)) for item in related if template_ids(item) & SEVERITY_OBSERVATIONS}
    if severities & _SEVERITY_HIGH:
        return "high"
    if severities & _SEVERITY_LOW:
        return "low"
    return ""


# --- problems -----------------------------------------------------------------------------------


def condition_category(statement: Element, concern: Element | None) -> str:
    """The diagnosis act's kind, else the nearest section that names one (op note, care plan...)."""
    for template in template_ids(concern) if concern is not None else set():
        if template in DIAGNOSIS_ACTS:
            return DIAGNOSIS_ACTS[template]
    for section in enclosing_sections(statement):
        if category := SECTION_CATEGORIES.get(section_code(section)):
            return category
    return ""


def condition_facts(statement: Element, narrative: Narrative) -> list[ParsedFact]:
    concern, observations = subject_observations(statement, PROBLEM_OBSERVATIONS)
    category = condition_category(statement, concern)
    facts = []
    for observation in observations:
        effective = observation.find("h:effectiveTime", NS)
        value = observation.find("h:value", NS)
        text = statement_text(observation, narrative)
        fields = coded(value, narrative, text)
        assertion = "present"
        generic = value is None or _code(value) in GENERIC_PROBLEM_VALUES or not (_code(value) or text)
        said = _no_known_code(value)
        if (said and not negated(observation)) or (negated(observation) and generic):
            assertion = "none_known"
            fields["display"] = narrative.no_known(said or NO_KNOWN_DEFAULTS["condition"])
        elif negated(observation):
            assertion = "absent"  # "no diabetes": the display stays "Diabetes"
        facts.append(
            make_fact(
                kind="condition",
                **fields,
                status=_status(observation, concern, negation=assertion != "none_known"),
                effective_date=ts_date(effective) or ts_date(_child(concern, "h:effectiveTime")),
                effective_end=ivl_end(effective),
                assertion=assertion,
                category=category,
            )
        )
    return facts


# --- medications and immunisations -----------------------------------------------------------


def administration_of(statement: Element) -> Element | None:
    """The statement itself, or the substanceAdministration it wraps (a discharge-medication act)."""
    if local(statement) == "substanceAdministration":
        return statement
    return statement.find(".//h:substanceAdministration", NS)


def product_fields(administration: Element, narrative: Narrative) -> dict[str, Any]:
    material = administration.find("h:consumable/h:manufacturedProduct/h:manufacturedMaterial", NS)
    name = collapse(material.findtext("h:name", default="", namespaces=NS)) if material is not None else ""
    return coded(_child(material, "h:code"), narrative, name or statement_text(administration, narrative))


def medication_assertion(administration: Element, fields: dict[str, Any], narrative: Narrative) -> str:
    """present; absent ("not taking X"); none_known ("no medication"), relabelling ``fields``."""
    code = fields.get("code", "")
    generic = not fields.get("code_known") and fields.get("display") == "(no description)"
    statement = no_known_label(fields.get("code_system", ""), code) if code else ""
    if (statement and not negated(administration)) or (
        negated(administration) and (generic or code in GENERIC_MEDICATION_CODES)
    ):
        fields["display"] = narrative.no_known(statement or NO_KNOWN_DEFAULTS["medication"])
        return "none_known"
    return "absent" if negated(administration) else "present"


def administration_period(administration: Element) -> Element | None:
    """The administration's period (its IVL_TS effectiveTime; a PIVL_TS one is its frequency)."""
    return next(
        (time for time in administration.findall("h:effectiveTime", NS) if time.get(XSI_TYPE, "IVL_TS") == "IVL_TS"),
        None,
    )


def medication_facts(statement: Element, narrative: Narrative) -> list[ParsedFact]:
    administration = administration_of(statement)
    if administration is None:
        return []
    period = administration_period(administration)
    fields = product_fields(administration, narrative)
    assertion = medication_assertion(administration, fields, narrative)
    return [
        make_fact(
            kind="medication",
            **fields,
            status=_status(administration, None, negation=assertion != "none_known"),
            effective_date=ts_date(period),
            effective_end=ivl_end(period),
            detail=_dosage(administration),
            assertion=assertion,
        )
    ]


def _dosage(administration: Element) -> str:
    parts = []
    dose = administration.find("h:doseQuantity", NS)
    if dose is not None:
        bound = dose if dose.get("value") else dose.find("h:low", NS)
        if bound is not None and bound.get("value"):
            parts.append(f"{bound.get('value')} {unit_text(bound.get('unit'))}".replace("{count}", "").strip())
    for time in administration.findall("h:effectiveTime", NS):
        period = time.find("h:period", NS)
        if time.get(XSI_TYPE) == "PIVL_TS" and period is not None and period.get("value"):
            parts.append(f"every {period.get('value')} {period.get('unit', '')}".strip())
    route = administration.find("h:routeCode", NS)
    if route is not None and (route.get("displayName") or route.get("code")):
        parts.append(collapse(route.get("displayName") or route.get("code")))
    return ", ".join(parts)


def immunization_facts(statement: Element, narrative: Narrative) -> list[ParsedFact]:
    administration = administration_of(statement)
    if administration is None:
        return []
    lot = administration.findtext(
        "h:consumable/h:manufacturedProduct/h:manufacturedMaterial/h:lotNumberText", default="", namespaces=NS
    )
    status = administration.find("h:statusCode", NS)
    return [
        make_fact(
            kind="immunization",
            **product_fields(administration, narrative),
            status="not done" if negated(administration) else (status.get("code", "") if status is not None else ""),
            effective_date=ts_date(administration.find("h:effectiveTime", NS)),
            detail=f"lot {collapse(lot)}" if collapse(lot) else "",
            assertion="absent" if negated(administration) else "present",
        )
    ]


# --- procedures -------------------------------------------------------------------------------


def procedure_facts(statement: Element, narrative: Narrative) -> list[ParsedFact]:
    """A procedure done (or explicitly not done). Planned procedures (moodCode INT, ARQ...) are
    intentions, not history: they are not facts of this kind."""
    if statement.get("moodCode", "EVN") != "EVN":
        return []
    effective = statement.find("h:effectiveTime", NS)
    status = statement.find("h:statusCode", NS)
    sites = [
        coded(site, narrative)["display"]
        for site in statement.findall("h:targetSiteCode", NS)
        if coded(site, narrative)["display"] != "(no description)"
    ]
    return [
        make_fact(
            kind="procedure",
            **coded(statement.find("h:code", NS), narrative, statement_text(statement, narrative)),
            status="not done" if negated(statement) else (status.get("code", "") if status is not None else ""),
            effective_date=ts_date(effective),
            effective_end=ivl_end(effective),
            detail=", ".join(sites),
            assertion="absent" if negated(statement) else "present",
        )
    ]


# --- results and vital signs -------------------------------------------------------------------


def observation_facts(statement: Element, narrative: Narrative) -> list[ParsedFact]:
    """Every result observation of the statement (organizer components, lab act members).

    Observations nested inside another observation (comments, reactions, status) are
    details of their parent, not results of their own.
    """
    return [
        _observation(observation, statement, narrative)
        for observation in statement.iter(f"{{{V3}}}observation")
        if not _inside_observation(observation, statement)
    ]


def _inside_observation(observation: Element, statement: Element) -> bool:
    for ancestor in observation.iterancestors():
        if ancestor is statement:
            return local(ancestor) == "observation"
        if local(ancestor) == "observation":
            return True
    return False


def _group_label(observation: Element, statement: Element, narrative: Narrative) -> str:
    """The display of the nearest organizer (battery, panel, vital signs) holding the result,
    else of the act holding it (an IHE PaLM report entry names its specialty: "Biochimie")."""
    for ancestor in observation.iterancestors():
        if local(ancestor) in ("organizer", "act") and ancestor.find("h:code", NS) is not None:
            fields = coded(ancestor.find("h:code", NS), narrative)
            if fields["display"] != "(no description)":
                return fields["display"]
        if ancestor is statement:
            break
    return ""


def _observation(observation: Element, statement: Element, narrative: Narrative) -> ParsedFact:
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
        group_label=_group_label(observation, statement, narrative),
    )


def observation_value(value: Element | None, narrative: Narrative) -> dict[str, Any]:
    """PQ → decimal and unit; INT/REAL → decimal; CD/CE/ST/... → text."""
    if value is None or (value.get("nullFlavor") and not len(value)):
        return {}
    value_type = value.get(XSI_TYPE, "").split(":")[-1]
    if value_type in ("PQ", "INT", "REAL"):
        number = to_decimal(value.get("value"))
        if number is not None:
            return {"value_decimal": number, "unit": unit_text(value.get("unit"))}
        return {"value_text": collapse(value.get("value"))}
    if value_type == "IVL_PQ":
        low, high = value.find("h:low", NS), value.find("h:high", NS)
        bounds = [f"{b.get('value')} {unit_text(b.get('unit'))}".strip() for b in (low, high) if b is not None]
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


def unit_text(unit: str | None) -> str:
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
