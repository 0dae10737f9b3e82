"""Small CDA documents built by the tests: a header with a patient, and the sections given."""

from __future__ import annotations

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:sdtc="urn:hl7-org:sdtc">
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <id root="1.2.3.4" extension="{doc_id}"/>
  <code code="{type_code}" codeSystem="2.16.840.1.113883.6.1" displayName="{type_display}"/>
  <title>{title}</title>
  <effectiveTime value="20240310"/>
  <languageCode code="{language}"/>
  <recordTarget>
    <patientRole>
      <id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>
      <patient>
        <name><given>Dominique</given><family>TEST</family></name>
        <administrativeGenderCode code="F" codeSystem="2.16.840.1.113883.5.1"/>
        <birthTime value="19790328"/>
        {patient_extra}
      </patient>
    </patientRole>
  </recordTarget>
  {header_extra}
  <component>
    <structuredBody>
      {sections}
    </structuredBody>
  </component>
</ClinicalDocument>
"""


def cda(
    *sections: str,
    language: str = "en-US",
    type_code: str = "34133-9",
    type_display: str = "Summary of episode note",
    title: str = "Test document",
    patient_extra: str = "",
    header_extra: str = "",
) -> bytes:
    return HEADER.format(
        doc_id="test",
        type_code=type_code,
        type_display=type_display,
        title=title,
        language=language,
        patient_extra=patient_extra,
        header_extra=header_extra,
        sections="\n".join(sections),
    ).encode()


def section(code: str, *entries: str, title: str = "Section", templates: tuple[str, ...] = (), text: str = "") -> str:
    template_ids = "".join(f'<templateId root="{root}"/>' for root in templates)
    body = "".join(f"<entry>{entry}</entry>" for entry in entries)
    return (
        f'<component><section>{template_ids}<code code="{code}" codeSystem="2.16.840.1.113883.6.1"/>'
        f"<title>{title}</title><text>{text}</text>{body}</section></component>"
    )


def problem_observation(
    code: str,
    display: str,
    *,
    negated: bool = False,
    templates: tuple[str, ...] = ("2.16.840.1.113883.10.20.22.4.4",),
    value_null: bool = False,
) -> str:
    template_ids = "".join(f'<templateId root="{root}"/>' for root in templates)
    negation = ' negationInd="true"' if negated else ""
    value = (
        '<value xsi:type="CD" nullFlavor="NI"/>'
        if value_null
        else f'<value xsi:type="CD" code="{code}" codeSystem="2.16.840.1.113883.6.96" displayName="{display}"/>'
    )
    return (
        f'<observation classCode="OBS" moodCode="EVN"{negation}>{template_ids}'
        '<code code="55607006" codeSystem="2.16.840.1.113883.6.96" displayName="Problem"/>'
        '<statusCode code="completed"/><effectiveTime><low value="20200105"/></effectiveTime>'
        f"{value}</observation>"
    )


def concern(*observations: str, template: str = "2.16.840.1.113883.10.20.22.4.3", relation: str = "SUBJ") -> str:
    related = "".join(f'<entryRelationship typeCode="{relation}">{item}</entryRelationship>' for item in observations)
    return (
        f'<act classCode="ACT" moodCode="EVN"><templateId root="{template}"/>'
        '<code code="CONC" codeSystem="2.16.840.1.113883.5.6"/><statusCode code="active"/>'
        f'<effectiveTime><low value="20200101"/></effectiveTime>{related}</act>'
    )
