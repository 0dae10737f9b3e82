"""CDA entries read by template wherever they stand (issue 13): procedures, diagnoses of
op notes, care-plan concerns, negated and "no known" statements, criticality, result
groups, deceased patients and auto-presentable documents. Pure parsing: no database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from apps.clinical.parsers import parse_cda
from apps.clinical.parsing import ParsedDocument, ParsedFact, ParseError
from apps.intake.inspection import inspect_content

from .cda_builder import cda, concern, problem_observation, section

SNOMED = "2.16.840.1.113883.6.96"


def corpus(relative: str) -> bytes:
    return (Path(settings.CORPUS_DIR) / relative).read_bytes()


def of_kind(document: ParsedDocument, kind: str) -> list[ParsedFact]:
    return [fact for fact in document.facts if fact.kind == kind]


def allergy(*, negated: bool = False, agent: str = "", value: str = "419199007", extra: str = "") -> str:
    """A C-CDA allergy concern with one allergy observation; ``agent`` "" is a nullFlavor agent."""
    agent_code = (
        f'<code code="{agent}" codeSystem="{SNOMED}" displayName="{AGENTS.get(agent, agent)}"/>'
        if agent
        else '<code nullFlavor="NA"/>'
    )
    negation = ' negationInd="true"' if negated else ""
    observation = (
        f'<observation classCode="OBS" moodCode="EVN"{negation}>'
        '<templateId root="2.16.840.1.113883.10.20.22.4.7"/>'
        '<code code="ASSERTION" codeSystem="2.16.840.1.113883.5.4"/><statusCode code="completed"/>'
        f'<value xsi:type="CD" code="{value}" codeSystem="{SNOMED}"/>'
        '<participant typeCode="CSM"><participantRole classCode="MANU"><playingEntity classCode="MMAT">'
        f"{agent_code}</playingEntity></participantRole></participant>{extra}</observation>"
    )
    return concern(observation, template="2.16.840.1.113883.10.20.22.4.30")


AGENTS = {"105590001": "Substance", "70618": "Penicillin", "410942007": "Drug or medicament"}


def procedure(
    *, mood: str = "EVN", negated: bool = False, site: str = "", template: str = "2.16.840.1.113883.10.20.22.4.14"
) -> str:
    negation = ' negationInd="true"' if negated else ""
    target = f'<targetSiteCode code="{site}" codeSystem="{SNOMED}" displayName="Entire appendix"/>' if site else ""
    return (
        f'<procedure classCode="PROC" moodCode="{mood}"{negation}><templateId root="{template}"/>'
        f'<code code="6025007" codeSystem="{SNOMED}" displayName="Laparoscopic appendectomy"/>'
        '<statusCode code="completed"/><effectiveTime value="20230412"/>'
        f"{target}</procedure>"
    )


# --- problems wherever they stand ----------------------------------------------------------------


def test_problem_entry_outside_the_problem_section_is_a_condition():
    document = parse_cda(
        cda(
            section("10164-2", concern(problem_observation("44054006", "Diabetes")), title="History of present illness")
        )
    )
    assert [(fact.kind, fact.display, fact.code) for fact in document.facts] == [("condition", "Diabetes", "44054006")]


def test_problem_in_a_concern_in_nested_problem_sections_is_read_once():
    inner = section("11450-4", concern(problem_observation("44054006", "Diabetes")), title="Problems")
    outer = (
        f'<component><section><code code="11348-0" codeSystem="2.16.840.1.113883.6.1"/>{inner}</section></component>'
    )
    document = parse_cda(cda(outer))
    assert [fact.display for fact in document.facts] == ["Diabetes"]


def test_french_problem_entry_in_any_section_is_a_condition():
    ihe_problem = problem_observation(
        "N10",
        "Pyélonéphrite aiguë",
        templates=("2.16.840.1.113883.10.20.1.28", "1.3.6.1.4.1.19376.1.5.3.1.4.5", "1.2.250.1.213.1.1.3.37"),
    )
    document = parse_cda(cda(section("10195-6", ihe_problem, title="Système auditif"), language="fr-FR"))
    assert [(fact.kind, fact.display) for fact in document.facts] == [("condition", "Pyélonéphrite aiguë")]


def test_postoperative_diagnosis_of_an_op_note_is_a_condition_with_its_category():
    document = parse_cda(
        cda(
            section("10218-6", problem_observation("74400008", "Appendicitis"), title="Postoperative diagnosis"),
            type_code="11504-8",
            type_display="Surgical operation note",
        )
    )
    diagnosis = of_kind(document, "condition")[0]
    assert (diagnosis.display, diagnosis.category) == ("Appendicitis", "postoperative diagnosis")


def test_a_diagnosis_outside_a_concern_is_not_ended_by_its_own_completed_status_code():
    # C-CDA sets every problem observation's statusCode to "completed" (the observation is recorded):
    # only a concern act's status, or a status observation, says the problem is over.
    document = parse_cda(cda(section("10218-6", problem_observation("74400008", "Appendicitis"))))
    assert of_kind(document, "condition")[0].status == ""


def test_narrative_only_postoperative_diagnosis_is_an_uncoded_condition():
    # C-CDA defines the operative note's postoperative diagnosis section without entries.
    document = parse_cda(
        cda(
            section("10218-6", text="Appendicitis with periappendiceal abscess", title="Postoperative diagnosis"),
            type_code="11504-8",
            type_display="Surgical operation note",
        )
    )
    (diagnosis,) = document.facts
    assert (diagnosis.kind, diagnosis.display, diagnosis.code, diagnosis.code_known) == (
        "condition",
        "Appendicitis with periappendiceal abscess",
        "",
        False,
    )
    assert (diagnosis.category, diagnosis.effective_date) == ("postoperative diagnosis", date(2024, 3, 10))


def test_narrative_diagnosis_list_gives_one_condition_per_item():
    items = "<list><item>Appendicitis</item><item>Peritonitis</item></list>"
    document = parse_cda(cda(section("10218-6", text=items)))
    assert [fact.display for fact in document.facts] == ["Appendicitis", "Peritonitis"]


def test_narrative_diagnosis_saying_none_is_no_condition():
    assert parse_cda(cda(section("10218-6", text="None."))).facts == []


def test_narrative_diagnosis_is_not_read_when_the_section_has_entries():
    coded = section("10219-4", problem_observation("74400008", "Appendicitis"), text="Appendicitis, suspected")
    assert [fact.display for fact in parse_cda(cda(coded)).facts] == ["Appendicitis"]


def test_preoperative_diagnosis_act_names_its_category_in_any_section():
    act = concern(problem_observation("74400008", "Appendicitis"), template="2.16.840.1.113883.10.20.22.4.65")
    document = parse_cda(cda(section("10219-4", act, title="Preoperative diagnosis")))
    assert of_kind(document, "condition")[0].category == "preoperative diagnosis"


def test_procedure_indication_without_problem_template_is_a_condition_by_its_section():
    indication = problem_observation("21522001", "Abdominal pain", templates=("2.16.840.1.113883.10.20.22.4.19",))
    document = parse_cda(cda(section("59768-2", indication, title="Procedure indications")))
    condition = of_kind(document, "condition")[0]
    assert (condition.display, condition.category) == ("Abdominal pain", "procedure indication")


def test_care_plan_concern_is_a_problem_of_category_care_plan():
    document = parse_cda(
        cda(section("18776-5", concern(problem_observation("38341003", "Hypertension")), title="Plan of care"))
    )
    problem = of_kind(document, "condition")[0]
    assert (problem.display, problem.category) == ("Hypertension", "care plan")


def test_health_concern_act_refers_to_its_problem():
    health_concern = concern(
        problem_observation("38341003", "Hypertension"), template="2.16.840.1.113883.10.20.22.4.132", relation="REFR"
    )
    document = parse_cda(cda(section("75310-3", health_concern, title="Health concerns")))
    problem = of_kind(document, "condition")[0]
    assert (problem.display, problem.category) == ("Hypertension", "health concern")


def test_encounter_diagnosis_inside_an_encounter_is_found():
    diagnosis = concern(problem_observation("195967001", "Asthma"), template="2.16.840.1.113883.10.20.22.4.80")
    encounter = (
        '<encounter classCode="ENC" moodCode="EVN"><templateId root="2.16.840.1.113883.10.20.22.4.49"/>'
        f'<entryRelationship typeCode="RSON">{diagnosis}</entryRelationship></encounter>'
    )
    document = parse_cda(cda(section("46240-8", encounter, title="Encounters")))
    assert [(fact.display, fact.category) for fact in document.facts] == [("Asthma", "encounter diagnosis")]


def test_discharge_summary_diagnoses_carry_their_category():
    document = parse_cda(corpus("ccda/hl7-discharge-summary.xml"))
    categories = {fact.category for fact in of_kind(document, "condition") if fact.code == "74400008"}
    assert categories == {"admission diagnosis", "discharge diagnosis", ""}


# --- negation and "no known" -----------------------------------------------------------------


def test_negated_problem_is_absent_and_keeps_the_thing_as_its_display():
    document = parse_cda(cda(section("11450-4", concern(problem_observation("44054006", "Diabetes", negated=True)))))
    problem = of_kind(document, "condition")[0]
    assert (problem.display, problem.code, problem.assertion) == ("Diabetes", "44054006", "absent")


def test_negated_generic_problem_is_no_known_problems():
    document = parse_cda(cda(section("11450-4", concern(problem_observation("55607006", "Problem", negated=True)))))
    problem = of_kind(document, "condition")[0]
    assert (problem.display, problem.assertion) == ("No known problems", "none_known")


def test_no_current_problems_code_is_none_known():
    document = parse_cda(cda(section("11450-4", concern(problem_observation("160245001", "No current problems")))))
    problem = of_kind(document, "condition")[0]
    assert (problem.assertion, problem.code) == ("none_known", "160245001")


def test_negated_allergy_to_drugs_is_no_known_drug_allergies():
    document = parse_cda(cda(section("48765-2", allergy(negated=True, agent="410942007"))))
    fact = of_kind(document, "allergy")[0]
    assert (fact.display, fact.assertion) == ("No known drug allergies", "none_known")


def test_negated_allergy_without_agent_is_no_known_allergies():
    document = parse_cda(cda(section("48765-2", allergy(negated=True))))
    fact = of_kind(document, "allergy")[0]
    assert (fact.display, fact.assertion, fact.status) == ("No known allergies", "none_known", "active")


def test_negated_allergy_to_the_class_substance_is_never_an_allergy_called_substance():
    document = parse_cda(cda(section("48765-2", allergy(negated=True, agent="105590001"))))
    fact = of_kind(document, "allergy")[0]
    assert (fact.display, fact.assertion) == ("No known allergies", "none_known")


def test_no_known_allergy_code_is_none_known():
    document = parse_cda(cda(section("48765-2", allergy(value="716186003"))))
    fact = of_kind(document, "allergy")[0]
    assert (fact.display, fact.assertion, fact.code) == ("No known allergies", "none_known", "716186003")


def test_ips_no_known_allergies_code_of_a_french_document_is_none_known():
    observation = allergy(value="no-known-allergies").replace(
        f'code="no-known-allergies" codeSystem="{SNOMED}"',
        'code="no-known-allergies" codeSystem="2.16.840.1.113883.5.1150.1"',
    )
    document = parse_cda(cda(section("48765-2", observation), language="fr-FR"))
    fact = of_kind(document, "allergy")[0]
    assert (fact.display, fact.assertion) == ("Aucune allergie connue", "none_known")


def test_no_known_drug_allergy_does_not_say_more_than_drugs():
    document = parse_cda(cda(section("48765-2", allergy(value="409137002"))))
    assert of_kind(document, "allergy")[0].display == "No known drug allergies"


def test_no_known_allergies_in_a_french_document_reads_in_french():
    document = parse_cda(cda(section("48765-2", allergy(negated=True)), language="fr-FR"))
    assert of_kind(document, "allergy")[0].display == "Aucune allergie connue"


def test_negated_allergy_to_a_named_substance_is_absent():
    document = parse_cda(cda(section("48765-2", allergy(negated=True, agent="70618"))))
    fact = of_kind(document, "allergy")[0]
    assert (fact.display, fact.assertion) == ("Penicillin", "absent")


# --- criticality -------------------------------------------------------------------------------


def _related(template: str, code: str, system: str = SNOMED) -> str:
    return (
        f'<entryRelationship typeCode="SUBJ" inversionInd="true"><observation classCode="OBS" moodCode="EVN">'
        f'<templateId root="{template}"/><code code="SEV" codeSystem="2.16.840.1.113883.5.4"/>'
        f'<value xsi:type="CD" code="{code}" codeSystem="{system}"/></observation></entryRelationship>'
    )


@pytest.mark.parametrize(
    ("related", "criticality"),
    [
        (_related("2.16.840.1.113883.10.20.22.4.145", "CRITH", "2.16.840.1.113883.5.1063"), "high"),
        (_related("2.16.840.1.113883.10.20.22.4.145", "CRITU", "2.16.840.1.113883.5.1063"), "unable-to-assess"),
        (_related("2.16.840.1.113883.10.20.22.4.8", "24484000"), "high"),
        (_related("2.16.840.1.113883.10.20.22.4.8", "255604002"), "low"),
        (_related("1.3.6.1.4.1.19376.1.5.3.1.4.1", "L", "2.16.840.1.113883.5.1063"), "low"),
        ("", ""),
    ],
    ids=["criticality-high", "criticality-unable", "severe", "mild", "ihe-low", "none"],
)
def test_allergy_criticality_is_read(related, criticality):
    document = parse_cda(cda(section("48765-2", allergy(agent="70618", extra=related))))
    assert of_kind(document, "allergy")[0].criticality == criticality


def test_criticality_observation_wins_over_severity():
    both = _related("2.16.840.1.113883.10.20.22.4.8", "24484000") + _related(
        "2.16.840.1.113883.10.20.22.4.145", "CRITL", "2.16.840.1.113883.5.1063"
    )
    document = parse_cda(cda(section("48765-2", allergy(agent="70618", extra=both))))
    assert of_kind(document, "allergy")[0].criticality == "low"


def test_corpus_allergy_severity_gives_criticality():
    document = parse_cda(corpus("ccda/hl7-progress-note.xml"))
    assert {fact.display: fact.criticality for fact in of_kind(document, "allergy")} == {
        "Penicillin": "high",  # "moderate to severe"
        "codeine": "low",
    }


# --- procedures -------------------------------------------------------------------------------


def test_procedure_entry_is_a_procedure_with_code_date_status_and_site():
    document = parse_cda(cda(section("47519-4", procedure(site="181255000"), title="Procedures")))
    fact = of_kind(document, "procedure")[0]
    assert (fact.display, fact.code, fact.code_system) == (
        "Laparoscopic appendectomy",
        "6025007",
        "http://snomed.info/sct",
    )
    assert (fact.effective_date, fact.status, fact.detail) == (date(2023, 4, 12), "completed", "Entire appendix")


def test_procedure_entry_in_any_section_is_a_procedure():
    document = parse_cda(cda(section("10164-2", procedure(), title="History of present illness")))
    assert [fact.kind for fact in document.facts] == ["procedure"]


def test_procedure_not_done_is_absent():
    document = parse_cda(cda(section("47519-4", procedure(negated=True))))
    fact = of_kind(document, "procedure")[0]
    assert (fact.status, fact.assertion) == ("not done", "absent")


def test_planned_procedure_is_not_a_procedure_done():
    document = parse_cda(cda(section("18776-5", procedure(mood="INT", template="2.16.840.1.113883.10.20.22.4.41"))))
    assert document.facts == []


SERVICE_EVENT = (
    '<documentationOf><serviceEvent classCode="PROC"><code code="6025007" codeSystem="2.16.840.1.113883.6.96"'
    ' displayName="Laparoscopic appendectomy"/><effectiveTime><low value="20240309"/><high value="20240309"/>'
    "</effectiveTime></serviceEvent></documentationOf>"
)


def test_operative_note_gives_the_procedure_it_documents():
    document = parse_cda(cda(header_extra=SERVICE_EVENT, type_code="11504-8", type_display="Surgical operation note"))
    (fact,) = document.facts
    assert (fact.kind, fact.code, fact.effective_date) == ("procedure", "6025007", date(2024, 3, 9))


def test_documented_procedure_also_in_the_body_is_read_once():
    document = parse_cda(
        cda(section("47519-4", procedure()), header_extra=SERVICE_EVENT, type_code="11504-8", type_display="Op note")
    )
    assert [fact.code for fact in document.facts] == ["6025007"]


def test_service_event_of_another_document_type_is_not_a_procedure():
    assert parse_cda(cda(header_extra=SERVICE_EVENT)).facts == []


def test_french_surgical_history_gives_a_ccam_procedure():
    document = parse_cda(corpus("fr-cda/LDL-EES_2022.01.xml"))
    fact = of_kind(document, "procedure")[0]
    assert (fact.code, fact.effective_date) == ("DDAF004", date(2017, 8, 1))


# --- results -----------------------------------------------------------------------------------


def test_result_names_the_panel_it_belongs_to():
    document = parse_cda(corpus("ccda/emerge-patient-0.xml"))
    ldl = next(fact for fact in document.facts if fact.code == "2089-1")
    assert ldl.group_label == "Lipid Panel"


def test_french_lab_result_without_battery_is_grouped_by_its_report_chapter():
    document = parse_cda(corpus("fr-cda/BIO-CR-BIO_2024.01_TSH_1.xml"))
    tsh = next(fact for fact in document.facts if fact.code == "3016-3")
    assert tsh.group_label == "Biochimie"


def test_result_organizer_outside_the_results_section_is_read():
    organizer = (
        '<organizer classCode="BATTERY" moodCode="EVN"><templateId root="2.16.840.1.113883.10.20.22.4.1"/>'
        '<code code="24331-1" codeSystem="2.16.840.1.113883.6.1" displayName="Lipid panel"/>'
        '<statusCode code="completed"/><component><observation classCode="OBS" moodCode="EVN">'
        '<templateId root="2.16.840.1.113883.10.20.22.4.2"/>'
        '<code code="2093-3" codeSystem="2.16.840.1.113883.6.1" displayName="Cholesterol"/>'
        '<statusCode code="completed"/><effectiveTime value="20240301"/>'
        '<value xsi:type="PQ" value="190" unit="mg/dL"/></observation></component></organizer>'
    )
    document = parse_cda(cda(section("10164-2", organizer)))
    result = of_kind(document, "observation")[0]
    assert (result.code, result.unit, result.group_label) == ("2093-3", "mg/dL", "Lipid panel")


# --- header -------------------------------------------------------------------------------------


def test_deceased_patient_is_read_from_sdtc():
    document = parse_cda(cda(patient_extra='<sdtc:deceasedInd value="true"/><sdtc:deceasedTime value="20240101"/>'))
    assert (document.patient.deceased, document.patient.deceased_on) == (True, date(2024, 1, 1))


def test_date_of_death_alone_says_the_patient_died():
    document = parse_cda(cda(patient_extra='<sdtc:deceasedTime value="20240101"/>'))
    assert document.patient.deceased is True


def test_living_patient_is_not_deceased():
    assert parse_cda(cda()).patient.deceased is False


# --- auto-presentable documents ----------------------------------------------------------------


def auto_presentable(document: bytes) -> bytes:
    """An ANS-style auto-presentable CDA: a stylesheet pointing at itself, the CDA inside."""
    inner = document.split(b"?>", 1)[1] if document.startswith(b"<?xml ") else document
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet type="text/xsl" href="#"?>\n'
        b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
        b'xmlns:data="urn:asip-sante:ci-sis"><data:Contenu>'
        + inner
        + b'</data:Contenu><xsl:template match="/"><html><body>CDA</body></html></xsl:template></xsl:stylesheet>'
    )


def test_auto_presentable_cda_gives_the_facts_of_the_document_it_carries():
    plain = parse_cda(corpus("fr-cda/LDL-EES_2022.01.xml"))
    wrapped = parse_cda(auto_presentable(corpus("fr-cda/LDL-EES_2022.01.xml")))
    assert (wrapped.type_code, wrapped.patient.ins, wrapped.care_date) == (
        "18761-7",
        "279035121518989",
        plain.care_date,
    )
    assert wrapped.facts == plain.facts
    assert "Pyélonéphrite" in wrapped.text


def test_auto_presentable_cda_with_prefixed_namespace_is_read():
    prefixed = cda(section("11450-4", concern(problem_observation("44054006", "Diabetes")))).replace(
        b'xmlns="urn:hl7-org:v3"', b'xmlns="urn:hl7-org:v3" xmlns:c="urn:hl7-org:v3"'
    )
    document = parse_cda(auto_presentable(prefixed))
    assert [fact.display for fact in document.facts] == ["Diabetes"]


def test_stylesheet_without_a_clinical_document_is_not_a_cda():
    stylesheet = b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>'
    with pytest.raises(ParseError) as error:
        parse_cda(stylesheet)
    assert error.value.code == "not_cda"


def test_auto_presentable_cda_is_inspected_as_a_cda():
    data = auto_presentable(corpus("fr-cda/VAC_2023.01.xml"))
    assert inspect_content(data=data, declared_name="vac.xml", max_bytes=len(data)).kind == "cda"


def test_auto_presentable_cda_keeps_refusing_entities():
    data = auto_presentable(cda()).replace(b"<xsl:stylesheet", b'<!DOCTYPE x [<!ENTITY e "boom">]>\n<xsl:stylesheet', 1)
    with pytest.raises(ParseError) as error:
        parse_cda(data)
    assert error.value.code == "xml_entities"
