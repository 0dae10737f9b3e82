"""Bad input is refused with a named reason, and XML entity tricks are never expanded."""

from __future__ import annotations

import json

import pytest

from apps.clinical.parsers import parse_cda, parse_fhir, parse_structured
from apps.clinical.parsing import ParseError

CDA_NS = 'xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol9;</title></ClinicalDocument>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&e;</title></ClinicalDocument>"""


def minimal_cda(body: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument {CDA_NS}>
  <code code="11488-4" codeSystem="2.16.840.1.113883.6.1" displayName="Consult note"/>
  <title>Consultation</title>
  <effectiveTime value="20240102"/>
  <recordTarget><patientRole><id root="1.2.250.1.213.1.4.8" extension="279035121518989"/>
    <patient><name><family>MARTIN</family><given>Alice</given></name>
    <administrativeGenderCode code="F"/><birthTime value="19790312"/></patient>
  </patientRole></recordTarget>
  <component><structuredBody>{body}</structuredBody></component>
</ClinicalDocument>""".encode()


def error_code(parse, content: bytes) -> str:
    with pytest.raises(ParseError) as raised:
        parse(content)
    return raised.value.code


def test_malformed_json_is_refused():
    assert error_code(parse_fhir, b'{"resourceType": "Bundle", ') == "malformed_json"


def test_non_utf8_bytes_are_malformed_json():
    assert error_code(parse_fhir, b"\xff\xfe{}") == "malformed_json"


def test_json_without_resource_type_is_not_fhir():
    assert error_code(parse_fhir, b'{"name": "not a resource"}') == "invalid_fhir"


def test_json_with_unknown_resource_type_is_not_fhir():
    assert error_code(parse_fhir, b'{"resourceType": "Spaceship"}') == "invalid_fhir"


def test_json_with_a_data_type_instead_of_a_resource_is_not_fhir():
    assert error_code(parse_fhir, b'{"resourceType": "Coding", "code": "x"}') == "invalid_fhir"


def test_fhir_resource_with_invalid_field_is_refused_with_detail():
    content = json.dumps({"resourceType": "Observation", "status": "final", "code": "not a concept"}).encode()
    with pytest.raises(ParseError) as raised:
        parse_fhir(content)
    assert raised.value.code == "invalid_fhir"
    assert "code" in raised.value.detail


def test_bundle_with_two_different_patients_is_refused():
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "name": [{"family": "Martin", "given": ["Alice"]}]}},
            {"resource": {"resourceType": "Patient", "name": [{"family": "Durand", "given": ["Pierre"]}]}},
        ],
    }
    assert error_code(parse_fhir, json.dumps(bundle).encode()) == "several_patients"


def test_bundle_repeating_the_same_patient_is_accepted():
    patient = {"resourceType": "Patient", "name": [{"family": "Martin", "given": ["Alice"]}], "gender": "female"}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient}, {"resource": patient}]}
    document = parse_fhir(json.dumps(bundle).encode())
    assert (document.patient.family_name, document.patient.sex) == ("Martin", "F")


def test_fhir_patient_ins_identifier_is_recognised():
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "279035121518989"}],
        "name": [{"family": "Martin", "given": ["Alice", "Marie"]}],
        "birthDate": "1979-03-12",
    }
    document = parse_fhir(json.dumps(patient).encode())
    assert (document.patient.ins, document.patient.given_names) == ("279035121518989", "Alice Marie")


def test_fhir_condition_without_any_code_keeps_its_text():
    condition = {"resourceType": "Condition", "subject": {"reference": "Patient/1"}, "code": {"text": "Mal de dos"}}
    (fact,) = parse_fhir(json.dumps(condition).encode()).facts
    assert (fact.kind, fact.display, fact.code, fact.code_known) == ("condition", "Mal de dos", "", False)


@pytest.mark.parametrize("parse", [parse_cda, parse_fhir])
def test_billion_laughs_is_refused_without_expansion(parse):
    assert error_code(parse, BILLION_LAUGHS) == "xml_entities"


@pytest.mark.parametrize("parse", [parse_cda, parse_fhir])
def test_external_entity_is_refused_and_never_read(parse):
    with pytest.raises(ParseError) as raised:
        parse(EXTERNAL_ENTITY)
    assert raised.value.code == "xml_entities"
    assert "root:" not in raised.value.detail  # nothing of /etc/passwd leaks into the message


def test_malformed_xml_is_refused():
    assert error_code(parse_cda, b"<ClinicalDocument><title>unclosed</ClinicalDocument>") == "malformed_xml"


def test_xml_that_is_not_a_clinical_document_is_not_cda():
    assert error_code(parse_cda, b'<?xml version="1.0"?><note><to>Tove</to></note>') == "not_cda"


def test_clinical_document_in_the_wrong_namespace_is_not_cda():
    assert error_code(parse_cda, b"<ClinicalDocument><title>x</title></ClinicalDocument>") == "not_cda"


def test_xml_that_is_not_fhir_is_refused_by_the_fhir_parser():
    assert error_code(parse_fhir, minimal_cda("")) == "invalid_fhir"


def test_unknown_structured_kind_is_refused():
    assert error_code(lambda content: parse_structured(content, "hl7v2"), b"MSH|") == "unsupported_format"


def test_cda_entry_without_code_keeps_its_narrative_text():
    section = """<component><section>
      <code code="11450-4" codeSystem="2.16.840.1.113883.6.1"/><title>Problèmes</title>
      <text><content ID="pb1">Douleur lombaire chronique</content></text>
      <entry><act classCode="ACT" moodCode="EVN"><code nullFlavor="NA"/><statusCode code="active"/>
        <entryRelationship typeCode="SUBJ"><observation classCode="OBS" moodCode="EVN">
          <code code="55607006" codeSystem="2.16.840.1.113883.6.96"/>
          <effectiveTime><low value="2019"/></effectiveTime>
          <value xsi:type="CD" nullFlavor="OTH"><originalText><reference value="#pb1"/></originalText></value>
        </observation></entryRelationship>
      </act></entry></section></component>"""
    document = parse_cda(minimal_cda(section))
    (fact,) = document.facts
    assert (fact.kind, fact.display, fact.code, fact.code_known) == (
        "condition",
        "Douleur lombaire chronique",
        "",
        False,
    )
    assert (fact.status, fact.effective_date.year) == ("active", 2019)
    assert document.patient.ins == "279035121518989"
    assert document.text == "Problèmes Douleur lombaire chronique"


def test_cda_result_with_text_value_and_reference_text():
    section = """<component><section>
      <code code="30954-2" codeSystem="2.16.840.1.113883.6.1"/>
      <entry><organizer classCode="BATTERY" moodCode="EVN"><effectiveTime value="20240102"/>
        <component><observation classCode="OBS" moodCode="EVN">
          <code code="5778-6" codeSystem="2.16.840.1.113883.6.1" displayName="Color of Urine"/>
          <value xsi:type="ST">jaune clair</value>
          <referenceRange><observationRange><text>jaune</text></observationRange></referenceRange>
        </observation></component>
      </organizer></entry></section></component>"""
    (fact,) = parse_cda(minimal_cda(section)).facts
    assert (fact.value_text, fact.reference_text, fact.effective_date.isoformat()) == (
        "jaune clair",
        "jaune",
        "2024-01-02",
    )


def test_over_long_texts_are_clipped_to_the_storage_limits():
    condition = {"resourceType": "Condition", "subject": {"reference": "Patient/1"}, "code": {"text": "x" * 900}}
    (fact,) = parse_fhir(json.dumps(condition).encode()).facts
    assert len(fact.display) == 500
