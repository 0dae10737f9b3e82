"""LOINC document types and the categories a patient recognises.

Codes as used by the French DMP value sets (JDV_J07, mostly LOINC) and by
C-CDA/IPS. An unknown code still gets a document, in "other".
"""

from __future__ import annotations

from apps.records.models import DocumentCategory

C = DocumentCategory

TYPE_CATEGORY: dict[str, str] = {
    # prescriptions
    "57833-6": C.PRESCRIPTION,  # prescription for medication
    "57832-8": C.PRESCRIPTION,  # prescription for diagnostic or specialist care
    "29551-9": C.PRESCRIPTION,
    # lab results
    "11502-2": C.LAB_RESULT,  # laboratory report
    "30954-2": C.LAB_RESULT,
    "26436-6": C.LAB_RESULT,
    # imaging
    "18748-4": C.IMAGING,  # diagnostic imaging report
    "18782-3": C.IMAGING,
    "52040-3": C.IMAGING,
    # reports and letters
    "11488-4": C.REPORT,  # consultation note
    "18842-5": C.REPORT,  # discharge summary
    "11490-0": C.REPORT,  # discharge summary (physician)
    "11506-3": C.REPORT,  # progress note
    "18761-7": C.REPORT,  # transfer / liaison letter
    "34112-3": C.REPORT,  # hospital report
    "11504-8": C.REPORT,  # surgical operation note
    "34874-8": C.REPORT,
    "15508-5": C.REPORT,  # delivery report
    # vaccinations
    "11369-6": C.VACCINATION,  # immunization history
    "87273-9": C.VACCINATION,  # vaccination note
    # certificates
    "CERT_DECL": C.CERTIFICATE,  # French health certificates (CS8, CS9, CS24)
    "64290-0": C.CERTIFICATE,
    # summaries
    "34133-9": C.SUMMARY,  # summary of episode (C-CDA CCD)
    "60591-5": C.SUMMARY,  # patient summary (IPS)
    "SYNTH": C.SUMMARY,  # a patient's data exported by another system
}


def category_for(type_code: str) -> str:
    return TYPE_CATEGORY.get(type_code.strip(), C.OTHER)
