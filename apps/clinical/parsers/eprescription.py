"""Prescription items (IHE Pharmacy PRE, French CI-SIS eP-MED) → medication facts.

A prescription line becomes a medication fact with ``category="prescription"`` and status
"prescribed", its treatment period as dates, and its posology as text in ``detail``, in the
document's own words wherever the document wrote them:

1. the narrative the prescriber's software wrote for the line's posology (the ANS
   examples give it the line's narrative ID followed by ``-posologie``);
2. else the posology rebuilt from the structured fields, taking for each field (dose,
   frequency, route, site) the narrative text its ``originalText`` references, and only
   when there is none words written here, in the document's language (French or English).
   Progressive doses (subordinate substanceAdministrations) are steps joined by "puis".
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from apps.clinical.parsing import ParsedFact

from .cda_facts import (
    NS,
    XSI_TYPE,
    Element,
    Narrative,
    administration_of,
    administration_period,
    enclosing_sections,
    ivl_end,
    medication_assertion,
    product_fields,
    section_code,
    statement_text,
    ts_date,
    unit_text,
)
from .cda_templates import PRESCRIPTION_ITEMS, PRESCRIPTION_SECTION_CODE, PRESCRIPTION_SECTIONS, template_ids
from .common import collapse, make_fact, partial_date, to_decimal

PATIENT_INSTRUCTIONS = {
    "2.16.840.1.113883.10.20.1.49",  # CCD patient instructions
    "1.3.6.1.4.1.19376.1.5.3.1.4.3",  # IHE patient medication instructions (CI-SIS FR-Instructions-au-patient)
}
# A statusCode that says the prescription no longer stands; any other reads "prescribed".
_ENDED_STATUSES = {"cancelled", "aborted", "nullified", "obsolete", "suspended", "held"}
_POSOLOGY_SUFFIXES = ("-posologie", "-posology", "-poso")
# Narrative cells the ANS examples fill with "-" when there is nothing to say.
_EMPTY_TEXTS = {"", "-", "—", "NA", "N/A"}

_WORDS = {
    "fr": {
        "then": "puis",
        "to": "à",
        "for": "pendant",
        "from": "à partir du",
        "between": "du {start} au {end}",
        "max": "maximum",
        "per": "par",
        "once": "1 fois par {unit}",
        "every": "toutes les {value} {unit}",
    },
    "en": {
        "then": "then",
        "to": "to",
        "for": "for",
        "from": "from",
        "between": "from {start} to {end}",
        "max": "maximum",
        "per": "per",
        "once": "once a {unit}",
        "every": "every {value} {unit}",
    },
}
# UCUM time units: (French singular, French plural, English singular, English plural).
_TIME_UNITS = {
    "min": ("minute", "minutes", "minute", "minutes"),
    "h": ("heure", "heures", "hour", "hours"),
    "d": ("jour", "jours", "day", "days"),
    "wk": ("semaine", "semaines", "week", "weeks"),
    "mo": ("mois", "mois", "month", "months"),
    "a": ("an", "ans", "year", "years"),
}
# UCUM annotations used as dose units by prescribing software.
_DOSE_UNITS = {
    "{tablet}": ("comprimé", "comprimés", "tablet", "tablets"),
    "{capsule}": ("gélule", "gélules", "capsule", "capsules"),
    "{drop}": ("goutte", "gouttes", "drop", "drops"),
    "{puff}": ("bouffée", "bouffées", "puff", "puffs"),
    "{application}": ("application", "applications", "application", "applications"),
    "{sachet}": ("sachet", "sachets", "sachet", "sachets"),
    "{suppository}": ("suppositoire", "suppositoires", "suppository", "suppositories"),
}
# EIVL_TS events (HL7 TimingEvent): when in the day, relative to meals or sleep.
_EVENTS = {
    "AC": ("avant les repas", "before meals"),
    "ACM": ("avant le petit-déjeuner", "before breakfast"),
    "ACD": ("avant le déjeuner", "before lunch"),
    "ACV": ("avant le dîner", "before dinner"),
    "PC": ("après les repas", "after meals"),
    "PCM": ("après le petit-déjeuner", "after breakfast"),
    "PCD": ("après le déjeuner", "after lunch"),
    "PCV": ("après le dîner", "after dinner"),
    "C": ("au cours des repas", "with meals"),
    "CM": ("au petit-déjeuner", "with breakfast"),
    "CD": ("au déjeuner", "with lunch"),
    "CV": ("au dîner", "with dinner"),
    "HS": ("au coucher", "at bedtime"),
    "WAKE": ("au lever", "on waking"),
}


def is_prescription_item(statement: Element) -> bool:
    """An IHE PRE / CI-SIS prescription item, or an intended administration in a prescription section."""
    administration = administration_of(statement)
    if administration is None:
        return False
    if template_ids(administration) & PRESCRIPTION_ITEMS:
        return True
    if administration.get("moodCode") not in ("INT", "RQO"):
        return False
    return any(
        section_code(section) == PRESCRIPTION_SECTION_CODE or template_ids(section) & PRESCRIPTION_SECTIONS
        for section in enclosing_sections(statement)
    )


def prescription_facts(statement: Element, narrative: Narrative) -> list[ParsedFact]:
    administration = administration_of(statement)
    if administration is None:
        return []
    period = administration_period(administration)
    start = ts_date(period) or _author_date(administration)
    end = ivl_end(period) or _add(start, period.find("h:width", NS) if period is not None else None)
    fields = product_fields(administration, narrative)
    status = administration.find("h:statusCode", NS)
    status_code = status.get("code", "") if status is not None else ""
    return [
        make_fact(
            kind="medication",
            **fields,
            status=status_code if status_code in _ENDED_STATUSES else "prescribed",
            effective_date=start,
            effective_end=end,
            detail=posology(administration, narrative, fields.get("display", "")),
            assertion=medication_assertion(administration, fields, narrative),
            category="prescription",
        )
    ]


def _author_date(administration: Element) -> date | None:
    time = administration.find("h:author/h:time", NS)
    return ts_date(time)


def _words(narrative: Narrative) -> dict[str, str]:
    return _WORDS["fr" if narrative.language == "fr" else "en"]


def _french(narrative: Narrative) -> bool:
    return narrative.language == "fr"


# --- posology --------------------------------------------------------------------------------


def posology(administration: Element, narrative: Narrative, product: str = "") -> str:
    """The posology of a prescription line as one text: dose and frequency (each step),
    maximum dose, route and site, treatment period; then the instructions to the patient."""
    words = _words(narrative)
    main = _written_posology(administration, narrative)
    from_narrative = bool(main)
    if not main:
        steps = [_step(administration, narrative, main=True)]
        steps += [_step(sub, narrative, main=False) for sub in _subordinates(administration)]
        main = f" {words['then']} ".join(step for step in steps if step)
    parts = [main, _max_dose(administration, narrative), _route(administration, narrative)]
    if not from_narrative:
        parts.append(_period(administration, narrative))
    text = ", ".join(part for part in parts if part)
    if not text:
        # Nothing structured: the line's own text when it says more than the product's name.
        line = statement_text(administration, narrative)
        text = line if line and line != product and len(line) > len(product) else ""
    instructions = _instructions(administration, narrative)
    return ". ".join(part for part in (text, instructions) if part)


def _written_posology(administration: Element, narrative: Narrative) -> str:
    reference = administration.find("h:text/h:reference", NS)
    identifier = (reference.get("value", "") if reference is not None else "").lstrip("#")
    if not identifier:
        return ""
    for suffix in _POSOLOGY_SUFFIXES:
        text = narrative.text_by_id(identifier + suffix)
        if text not in _EMPTY_TEXTS:
            return text
    return ""


def _subordinates(administration: Element) -> list[Element]:
    """Steps of a progressive or split dose, in their sequence order."""
    steps: list[tuple[Decimal, Element]] = []
    for relationship in administration.findall("h:entryRelationship", NS):
        child = relationship.find("h:substanceAdministration", NS)
        if child is not None and relationship.get("typeCode") in ("COMP", None):
            number = relationship.find("h:sequenceNumber", NS)
            order = to_decimal(number.get("value")) if number is not None else None
            steps.append((order if order is not None else Decimal(len(steps)), child))
    return [child for _, child in sorted(steps, key=lambda item: item[0])]


def _step(administration: Element, narrative: Narrative, main: bool) -> str:
    """Dose and frequency of one step ("1 cp à 2 cp 3 fois/j à partir du 01/12/2021 pendant 2 jours")."""
    dose = _quantity(administration.find("h:doseQuantity", NS), narrative, dose=True)
    frequency, written = _frequency(administration, narrative)
    parts = [dose, frequency]
    if not written:
        parts.append(_step_period(administration, narrative, main))
    return " ".join(part for part in parts if part)


def _referenced_text(element: Element | None, narrative: Narrative) -> str:
    """Narrative text referenced from ``element``'s originalText, directly or in a translation."""
    if element is None:
        return ""
    for path in ("h:originalText", "h:translation/h:originalText"):
        original = element.find(path, NS)
        if original is not None:
            text = narrative.text_of(original)
            if text and text not in _EMPTY_TEXTS:
                return text
    return ""


def _number(value: str | None) -> str:
    number = to_decimal(value)
    return format(number.normalize(), "f") if number is not None else collapse(value)


def _bound_text(bound: Element, narrative: Narrative, dose: bool) -> str:
    written = _referenced_text(bound, narrative)
    if written:
        return written
    value = bound.get("value")
    if not value:
        return ""
    return f"{_number(value)} {_unit_words(bound.get('unit'), value, narrative, dose)}".strip()


def _unit_words(unit: str | None, value: str | None, narrative: Narrative, dose: bool) -> str:
    if not unit or unit == "1":
        return ""
    if dose and unit in _DOSE_UNITS:
        plural = (to_decimal(value) or Decimal(1)) > 1
        offset = 0 if _french(narrative) else 2
        return _DOSE_UNITS[unit][offset + plural]
    return unit_text(unit).replace("{", "").replace("}", "")


def _quantity(quantity: Element | None, narrative: Narrative, dose: bool) -> str:
    """A PQ or IVL_PQ as text: "1 comprimé", "1 cp à 2 cp" (the range as the document wrote it)."""
    if quantity is None or quantity.get("nullFlavor"):
        return ""
    if quantity.get("value"):
        return _bound_text(quantity, narrative, dose)
    low, high = quantity.find("h:low", NS), quantity.find("h:high", NS)
    texts = [_bound_text(bound, narrative, dose) for bound in (low, high) if bound is not None]
    texts = [text for text in texts if text]
    if len(texts) == 2 and texts[0] == texts[1]:
        texts = texts[:1]
    return f" {_words(narrative)['to']} ".join(texts)


def _timings(administration: Element) -> list[Element]:
    """The effectiveTime parts of an administration (SXPR_TS components flattened)."""
    timings = []
    for time in administration.findall("h:effectiveTime", NS):
        components = time.findall("h:comp", NS)
        timings.extend(components or [time])
    return timings


def _kind(time: Element) -> str:
    return time.get(XSI_TYPE, "").split(":")[-1]


def _frequency(administration: Element, narrative: Narrative) -> tuple[str, bool]:
    """(frequency text, whether the document wrote it) from PIVL_TS and EIVL_TS timings."""
    texts: list[str] = []
    written = False
    for time in _timings(administration):
        if _kind(time) == "PIVL_TS":
            period = time.find("h:period", NS)
            text = _referenced_text(period, narrative) or _referenced_text(time, narrative)
            if text:
                written = True
            elif period is not None and period.get("value"):
                text = _every(period.get("value", ""), period.get("unit", ""), narrative)
            if text:
                texts.append(text)
        elif _kind(time) == "EIVL_TS":
            event = time.find("h:event", NS)
            code = event.get("code", "") if event is not None else ""
            text = _referenced_text(event, narrative)
            if text:
                written = True
            elif code in _EVENTS:
                text = _EVENTS[code][0 if _french(narrative) else 1]
            if text:
                texts.append(text)
    return " ".join(texts), written


def _time_unit(unit: str, value: str, narrative: Narrative) -> str:
    if unit not in _TIME_UNITS:
        return unit
    plural = (to_decimal(value) or Decimal(1)) > 1
    return _TIME_UNITS[unit][(0 if _french(narrative) else 2) + plural]


def _every(value: str, unit: str, narrative: Narrative) -> str:
    words = _words(narrative)
    if to_decimal(value) == 1 and unit in ("d", "wk", "mo"):
        return words["once"].format(unit=_time_unit(unit, "1", narrative))
    return words["every"].format(value=_number(value), unit=_time_unit(unit, value, narrative))


def _day(value: date | None, narrative: Narrative) -> str:
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y") if _french(narrative) else value.isoformat()


def _step_period(administration: Element, narrative: Narrative, main: bool) -> str:
    """ "à partir du 01/12/2021 pendant 2 jours" for a step's IVL_TS (its start and width)."""
    words = _words(narrative)
    for time in _timings(administration):
        if _kind(time) != "IVL_TS" or (main and time.getparent() is administration):
            continue  # the line's own period is said once, at the end
        low, width = time.find("h:low", NS), time.find("h:width", NS)
        parts = []
        if low is not None and low.get("value"):
            parts.append(f"{words['from']} {_day(partial_date(low.get('value', '')), narrative)}")
        if width is not None and width.get("value"):
            unit = _time_unit(width.get("unit", ""), width.get("value", ""), narrative)
            parts.append(f"{words['for']} {_number(width.get('value'))} {unit}")
        return " ".join(parts)
    return ""


def _period(administration: Element, narrative: Narrative) -> str:
    """The treatment period of the whole line: "du 01/12/2021 au 06/12/2021"."""
    period = next(
        (time for time in administration.findall("h:effectiveTime", NS) if _kind(time) in ("IVL_TS", "")),
        None,
    )
    start = ts_date(period)
    end = ivl_end(period) or _add(start, period.find("h:width", NS) if period is not None else None)
    words = _words(narrative)
    if start and end:
        return words["between"].format(start=_day(start, narrative), end=_day(end, narrative))
    if start:
        return f"{words['from']} {_day(start, narrative)}"
    return ""


def _add(start: date | None, width: Element | None) -> date | None:
    """``start`` + an IVL_TS width in days or weeks (the end of a "for 5 days" treatment)."""
    if start is None or width is None:
        return None
    value = to_decimal(width.get("value"))
    days = {"d": 1, "wk": 7}.get(width.get("unit", ""))
    if value is None or days is None:
        return None
    return start + timedelta(days=int(value * days))


def _max_dose(administration: Element, narrative: Narrative) -> str:
    """ "maximum 4 par jour" from maxDoseQuantity (an RTO: numerator per denominator)."""
    words = _words(narrative)
    limits = []
    for maximum in administration.findall("h:maxDoseQuantity", NS):
        numerator, denominator = maximum.find("h:numerator", NS), maximum.find("h:denominator", NS)
        if numerator is None or not numerator.get("value"):
            continue
        amount = _bound_text(numerator, narrative, dose=True)
        per = ""
        if denominator is not None and denominator.get("value"):
            value, unit = denominator.get("value", "1"), denominator.get("unit", "")
            per = (
                _time_unit(unit, value, narrative)
                if to_decimal(value) == 1
                else (f"{_number(value)} {_time_unit(unit, value, narrative)}")
            )
        limits.append(f"{words['max']} {amount} {words['per']} {per}".strip() if per else f"{words['max']} {amount}")
    return ", ".join(limits)


def _route(administration: Element, narrative: Narrative) -> str:
    route = administration.find("h:routeCode", NS)
    text = _referenced_text(route, narrative) or (collapse(route.get("displayName")) if route is not None else "")
    site = administration.find("h:approachSiteCode", NS)
    site_text = _referenced_text(site, narrative) or (collapse(site.get("displayName")) if site is not None else "")
    if text and site_text:
        return f"{text} ({site_text})"
    return text or site_text


def _instructions(administration: Element, narrative: Narrative) -> str:
    """Instructions to the patient ("A prendre au cours d'un repas")."""
    found = []
    for act in administration.findall("h:entryRelationship/h:act", NS):
        code = act.find("h:code", NS)
        if template_ids(act) & PATIENT_INSTRUCTIONS or (code is not None and code.get("code") == "PINSTRUCT"):
            text = statement_text(act, narrative)
            if text not in _EMPTY_TEXTS:
                found.append(text)
    return ". ".join(found)
