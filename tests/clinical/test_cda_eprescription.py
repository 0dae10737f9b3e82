"""French e-prescriptions (CI-SIS eP-MED, IHE Pharmacy PRE) → medication facts with their
posology as text (issue 13). The documents are built here on the shape of the ANS
eP-MED-DM 2022.01 examples (structured and non-structured posology)."""

from __future__ import annotations

from datetime import date

from apps.clinical.parsers import parse_cda
from apps.clinical.parsing import ParsedFact

from .cda_builder import cda

PRESCRIPTION_TEMPLATES = (
    '<templateId root="2.16.840.1.113883.10.20.1.24"/>'
    '<templateId root="1.3.6.1.4.1.19376.1.5.3.1.4.7"/>'
    '<templateId root="1.3.6.1.4.1.19376.1.9.1.3.2"/>'
    '<templateId root="1.2.250.1.213.1.1.3.83"/>'
)
PARACETAMOL = (
    '<consumable><manufacturedProduct classCode="MANU"><manufacturedMaterial classCode="MMAT" determinerCode="KIND">'
    '<code code="63107752" displayName="PARACETAMOL MYLAN 500 mg, comprimé" codeSystem="1.2.250.1.213.2.3.1">'
    '<originalText><reference value="#med-001"/></originalText></code>'
    "<name>PARACETAMOL MYLAN 500 mg, comprimé</name></manufacturedMaterial></manufacturedProduct></consumable>"
)
NO_PRODUCT = (
    '<consumable><manufacturedProduct classCode="MANU"><manufacturedMaterial classCode="MMAT" determinerCode="KIND">'
    '<code nullFlavor="NA"/><name nullFlavor="NA"/></manufacturedMaterial></manufacturedProduct></consumable>'
)
ALD = (
    '<entryRelationship typeCode="COMP"><observation classCode="OBS" moodCode="EVN">'
    '<templateId root="1.3.6.1.4.1.19376.1.5.3.1.4.13"/><templateId root="1.2.250.1.213.1.1.3.48"/>'
    '<code code="MED-574" displayName="En rapport avec une ALD" codeSystem="1.2.250.1.213.1.1.4.322"/>'
    '<statusCode code="completed"/><value xsi:type="BL" value="false"/></observation></entryRelationship>'
)
INSTRUCTIONS = (
    '<entryRelationship typeCode="SUBJ" inversionInd="true"><act classCode="ACT" moodCode="INT">'
    '<templateId root="1.3.6.1.4.1.19376.1.5.3.1.4.3"/>'
    '<code code="PINSTRUCT" codeSystem="1.3.6.1.4.1.19376.1.5.3.2"/>'
    '<text><reference value="#med-001-instrPatient"/></text><statusCode code="completed"/></act>'
    "</entryRelationship>"
)


def prescription_section(narrative: str, *items: str) -> str:
    entries = "".join(f"<entry>{item}</entry>" for item in items)
    return (
        '<component><section><templateId root="1.3.6.1.4.1.19376.1.9.1.2.1"/>'
        '<templateId root="1.2.250.1.213.1.1.2.171"/>'
        '<code code="57828-6" displayName="Prescriptions" codeSystem="2.16.840.1.113883.6.1"/>'
        f"<title>Prescription de médicaments</title><text>{narrative}</text>{entries}</section></component>"
    )


def item(body: str, *, product: str = PARACETAMOL, status: str = "completed") -> str:
    return (
        f'<substanceAdministration classCode="SBADM" moodCode="INT">{PRESCRIPTION_TEMPLATES}'
        '<code code="DRUG" codeSystem="2.16.840.1.113883.5.4"/>'
        f'<text><reference value="#med-001"/></text><statusCode code="{status}"/>'
        '<effectiveTime xsi:type="IVL_TS"><low value="20211201"/><high value="20211206"/></effectiveTime>'
        f"{body}{product}{ALD}</substanceAdministration>"
    )


def step(number: int, start: str, days: int, hours: int) -> str:
    """A subordinate administration (one step of a progressive dose), its texts in the narrative."""
    return (
        f'<entryRelationship typeCode="COMP"><sequenceNumber value="{number}"/>'
        '<substanceAdministration classCode="SBADM" moodCode="INT">'
        '<templateId root="1.2.250.1.213.1.1.3.83.1"/><statusCode code="completed"/>'
        f'<effectiveTime xsi:type="SXPR_TS"><comp xsi:type="IVL_TS" operator="A"><low value="{start}"/>'
        f'<width value="{days}" unit="d"/></comp><comp xsi:type="PIVL_TS" operator="A">'
        f'<period value="{hours}" unit="h"><translation><originalText>'
        f'<reference value="#med-001-frequence-{number}"/></originalText></translation></period></comp>'
        "</effectiveTime><doseQuantity>"
        f'<low value="1" unit="{{tablet}}"><translation><originalText><reference value="#med-001-doseMin-{number}"/>'
        "</originalText></translation></low>"
        f'<high value="2" unit="{{tablet}}"><translation><originalText><reference value="#med-001-doseMax-{number}"/>'
        "</originalText></translation></high>"
        f"</doseQuantity>{NO_PRODUCT}</substanceAdministration></entryRelationship>"
    )


STRUCTURED_NARRATIVE = (
    '<table><tbody><tr><td>du 01/12/2021 au 06/12/2021</td><td><content ID="med-001">PARACETAMOL MYLAN 500 mg, '
    'comprimé</content></td><td><content ID="med-001-frequence-1">3 fois/j à partir du 01/12/2021 pendant 2 jours'
    '</content><br/><content ID="med-001-frequence-2">2 fois/j à partir du 03/12/2021 pendant 4 jours</content></td>'
    '<td><content ID="med-001-doseMin-1">1 cp</content> à <content ID="med-001-doseMax-1">2 cp</content><br/>'
    '<content ID="med-001-doseMin-2">1 cp</content> à <content ID="med-001-doseMax-2">2 cp</content></td>'
    '<td><content ID="med-001-voie">Voie orale</content></td></tr>'
    '<tr><td>Instruction au patient</td><td><content ID="med-001-instrPatient">A prendre au cours d\'un repas'
    "</content></td></tr></tbody></table>"
)
ROUTE = (
    '<routeCode code="20053000" displayName="Voie orale" codeSystem="0.4.0.127.0.16.1.1.2.1">'
    '<originalText><reference value="#med-001-voie"/></originalText></routeCode>'
)
MAX_DOSE = '<maxDoseQuantity><numerator value="4"/><denominator value="1" unit="d"/></maxDoseQuantity>'


def medications(document_bytes: bytes) -> list[ParsedFact]:
    return [fact for fact in parse_cda(document_bytes).facts if fact.kind == "medication"]


def eprescription(*sections: str, language: str = "fr-FR") -> bytes:
    return cda(
        *sections,
        language=language,
        type_code="57833-6",
        type_display="Prescription de produits de santé",
        title="Prescription de médicaments",
    )


def test_structured_eprescription_gives_a_prescribed_medication_with_its_posology_in_french():
    steps = step(1, "20211201", 2, 8) + step(2, "20211203", 4, 12)
    line = item(f'<repeatNumber value="3"/>{ROUTE}{MAX_DOSE}').replace(PARACETAMOL, PARACETAMOL + steps + INSTRUCTIONS)
    (medication,) = medications(eprescription(prescription_section(STRUCTURED_NARRATIVE, line)))
    assert (medication.display, medication.code) == ("PARACETAMOL MYLAN 500 mg, comprimé", "63107752")
    assert (medication.category, medication.status) == ("prescription", "prescribed")
    assert (medication.effective_date, medication.effective_end) == (date(2021, 12, 1), date(2021, 12, 6))
    assert medication.detail == (
        "1 cp à 2 cp 3 fois/j à partir du 01/12/2021 pendant 2 jours"
        " puis 1 cp à 2 cp 2 fois/j à partir du 03/12/2021 pendant 4 jours, maximum 4 par jour, Voie orale,"
        " du 01/12/2021 au 06/12/2021. A prendre au cours d'un repas"
    )


def test_prescription_steps_and_allowance_observation_are_not_facts_of_their_own():
    line = item("").replace(PARACETAMOL, PARACETAMOL + step(1, "20211201", 2, 8) + step(2, "20211203", 4, 12))
    document = parse_cda(eprescription(prescription_section(STRUCTURED_NARRATIVE, line)))
    assert [fact.kind for fact in document.facts] == ["medication"]


def test_written_posology_of_a_non_structured_prescription_is_kept_as_written():
    narrative = (
        '<table><tbody><tr><td><content ID="med-001">PARACETAMOL MYLAN 500 mg, comprimé</content></td>'
        '<td><content ID="med-001-posologie">1 à 2 comprimés 3 fois/j pendant 2 jours puis 1 à 2 comprimés 2 fois/j'
        "</content></td></tr></tbody></table>"
    )
    (medication,) = medications(eprescription(prescription_section(narrative, item(""))))
    assert medication.detail == "1 à 2 comprimés 3 fois/j pendant 2 jours puis 1 à 2 comprimés 2 fois/j"


def test_posology_without_narrative_is_rebuilt_in_french_words():
    body = (
        '<effectiveTime xsi:type="PIVL_TS" operator="A"><period value="8" unit="h"/></effectiveTime>'
        '<routeCode code="20053000" displayName="Voie orale" codeSystem="0.4.0.127.0.16.1.1.2.1"/>'
        '<doseQuantity value="1" unit="{tablet}"/>'
    )
    (medication,) = medications(eprescription(prescription_section("", item(body))))
    assert medication.detail == "1 comprimé toutes les 8 heures, Voie orale, du 01/12/2021 au 06/12/2021"


def test_posology_of_an_english_prescription_is_rebuilt_in_english_words():
    body = (
        '<effectiveTime xsi:type="PIVL_TS" operator="A"><period value="1" unit="d"/></effectiveTime>'
        '<doseQuantity value="2" unit="{tablet}"/>'
    )
    (medication,) = medications(eprescription(prescription_section("", item(body)), language="en-US"))
    assert medication.detail == "2 tablets once a day, from 2021-12-01 to 2021-12-06"


def test_cancelled_prescription_keeps_its_status():
    (medication,) = medications(eprescription(prescription_section("", item("", status="cancelled"))))
    assert (medication.status, medication.category) == ("cancelled", "prescription")


def test_intended_administration_in_a_prescription_section_without_pre_template_is_a_prescription():
    line = item('<doseQuantity value="1" unit="{tablet}"/>').replace(PRESCRIPTION_TEMPLATES, "")
    (medication,) = medications(eprescription(prescription_section("", line)))
    assert (medication.category, medication.detail) == (
        "prescription",
        "1 comprimé, du 01/12/2021 au 06/12/2021",
    )


def test_treatment_period_given_as_a_width_ends_after_it():
    line = item("").replace(
        '<effectiveTime xsi:type="IVL_TS"><low value="20211201"/><high value="20211206"/></effectiveTime>',
        '<effectiveTime xsi:type="IVL_TS"><low value="20211201"/><width value="10" unit="d"/></effectiveTime>',
    )
    (medication,) = medications(eprescription(prescription_section("", line)))
    assert (medication.effective_date, medication.effective_end) == (date(2021, 12, 1), date(2021, 12, 11))


def test_medication_history_entry_is_not_a_prescription():
    history = (
        '<component><section><code code="10160-0" codeSystem="2.16.840.1.113883.6.1"/><title>Traitements</title>'
        '<entry><substanceAdministration classCode="SBADM" moodCode="EVN">'
        '<templateId root="1.3.6.1.4.1.19376.1.5.3.1.4.7"/><templateId root="1.2.250.1.213.1.1.3.42"/>'
        '<statusCode code="completed"/><effectiveTime xsi:type="IVL_TS"><low value="20180801"/></effectiveTime>'
        f"{PARACETAMOL}</substanceAdministration></entry></section></component>"
    )
    (medication,) = medications(eprescription(history))
    assert (medication.category, medication.status) == ("", "completed")
