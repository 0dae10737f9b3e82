"""CDA entry templates: which kind of fact a clinical statement is, wherever it stands.

An entry is read by its ``templateId`` (HL7 C-CDA R1.1/R2.x, CCD, IHE PCC / PaLM / PRE and
the French CI-SIS templates built on them); the section code is only a fallback for
entries that declare no template we know. Sources: the C-CDA R2.1 template list, the IHE
PCC / PaLM / Pharmacy PRE technical frameworks, the ANS CI-SIS "Modèles de contenus CDA"
(IG-document-core) and the ANS TestContenuCDA examples.
"""

from __future__ import annotations

# --- allergies ----------------------------------------------------------------------------------
ALLERGY_CONCERNS = {
    "2.16.840.1.113883.10.20.22.4.30",  # C-CDA allergy concern act
    "1.3.6.1.4.1.19376.1.5.3.1.4.5.3",  # IHE allergy and intolerance concern (CI-SIS FR-Liste-des-allergies)
}
ALLERGY_OBSERVATIONS = {
    "2.16.840.1.113883.10.20.22.4.7",  # C-CDA allergy - intolerance observation
    "1.3.6.1.4.1.19376.1.5.3.1.4.6",  # IHE allergy and intolerance (CI-SIS FR-Allergie-ou-hypersensibilite)
    "2.16.840.1.113883.10.20.1.18",  # CCD alert observation
}
# Allergy criticality and severity (the severity observation stands on the allergy or on a reaction).
CRITICALITY_OBSERVATIONS = {"2.16.840.1.113883.10.20.22.4.145"}
SEVERITY_OBSERVATIONS = {
    "2.16.840.1.113883.10.20.22.4.8",  # C-CDA severity observation
    "1.3.6.1.4.1.19376.1.5.3.1.4.1",  # IHE severity (CI-SIS FR-Severite)
    "2.16.840.1.113883.10.20.1.55",  # CCD severity observation
}

# --- problems and diagnoses --------------------------------------------------------------------
PROBLEM_CONCERNS = {
    "2.16.840.1.113883.10.20.22.4.3",  # C-CDA problem concern act
    "2.16.840.1.113883.10.20.22.4.132",  # C-CDA health concern act (care plans)
    "1.3.6.1.4.1.19376.1.5.3.1.4.5.2",  # IHE problem concern (CI-SIS FR-Liste-des-problemes)
}
# Concern acts that say nothing of their kind: the observations inside decide.
GENERIC_CONCERNS = {
    "1.3.6.1.4.1.19376.1.5.3.1.4.5.1",  # IHE concern entry
    "2.16.840.1.113883.10.20.1.27",  # CCD problem act (used for allergies too)
}
PROBLEM_OBSERVATIONS = {
    "2.16.840.1.113883.10.20.22.4.4",  # C-CDA problem observation
    "1.3.6.1.4.1.19376.1.5.3.1.4.5",  # IHE problem entry (CI-SIS FR-Probleme)
    "2.16.840.1.113883.10.20.1.28",  # CCD problem observation
}
# Acts that carry diagnoses, with the category their problems get.
DIAGNOSIS_ACTS = {
    "2.16.840.1.113883.10.20.22.4.65": "preoperative diagnosis",
    "2.16.840.1.113883.10.20.22.4.51": "postprocedure diagnosis",
    "2.16.840.1.113883.10.20.22.4.34": "admission diagnosis",
    "2.16.840.1.113883.10.20.22.4.33": "discharge diagnosis",
    "2.16.840.1.113883.10.20.22.4.80": "encounter diagnosis",
}

# --- medications, immunisations, prescriptions ------------------------------------------------
IMMUNIZATIONS = {
    "2.16.840.1.113883.10.20.22.4.52",  # C-CDA immunization activity
    "1.3.6.1.4.1.19376.1.5.3.1.4.12",  # IHE immunization (CI-SIS FR-Vaccination)
    "1.2.250.1.213.1.1.3.45",  # CI-SIS FR-Vaccination
}
MEDICATIONS = {
    "2.16.840.1.113883.10.20.22.4.16",  # C-CDA medication activity
    "2.16.840.1.113883.10.20.22.4.35",  # C-CDA discharge medication (wraps a medication activity)
    "1.3.6.1.4.1.19376.1.5.3.1.4.7",  # IHE medications (CI-SIS)
    "1.2.250.1.213.1.1.3.42",  # CI-SIS FR-Traitement
    "2.16.840.1.113883.10.20.1.24",  # CCD medication activity (also on CCD immunizations: checked after)
}
PRESCRIPTION_ITEMS = {
    "1.3.6.1.4.1.19376.1.9.1.3.2",  # IHE Pharmacy PRE prescription item
    "1.2.250.1.213.1.1.3.83",  # CI-SIS FR-Traitement-prescrit (eP-MED)
}
PRESCRIPTION_SECTIONS = {
    "1.3.6.1.4.1.19376.1.9.1.2.1",  # IHE PRE prescription section
    "1.2.250.1.213.1.1.2.171",  # CI-SIS FR-Prescription-medicaments
}
PRESCRIPTION_SECTION_CODE = "57828-6"  # LOINC "Prescriptions"

# --- procedures -------------------------------------------------------------------------------
PROCEDURES = {
    "2.16.840.1.113883.10.20.22.4.14",  # C-CDA procedure activity procedure
    "2.16.840.1.113883.10.20.22.4.13",  # C-CDA procedure activity observation
    "2.16.840.1.113883.10.20.22.4.12",  # C-CDA procedure activity act
    "1.3.6.1.4.1.19376.1.5.3.1.4.19",  # IHE procedure entry (CI-SIS FR-Acte)
    "1.2.250.1.213.1.1.3.62",  # CI-SIS FR-Acte
    "2.16.840.1.113883.10.20.1.29",  # CCD procedure activity
}

# --- results ----------------------------------------------------------------------------------
RESULTS = {
    "2.16.840.1.113883.10.20.22.4.1",  # C-CDA result organizer
    "2.16.840.1.113883.10.20.22.4.2",  # C-CDA result observation
    "2.16.840.1.113883.10.20.22.4.26",  # C-CDA vital signs organizer
    "2.16.840.1.113883.10.20.22.4.27",  # C-CDA vital sign observation
    "2.16.840.1.113883.10.20.1.32",  # CCD result organizer
    "2.16.840.1.113883.10.20.1.35",  # CCD vital signs organizer
    "2.16.840.1.113883.10.20.1.31",  # CCD result observation
    "1.3.6.1.4.1.19376.1.5.3.1.4.13.1",  # IHE vital signs organizer
    "1.3.6.1.4.1.19376.1.5.3.1.4.13.2",  # IHE vital signs observation
    "1.3.6.1.4.1.19376.1.3.1",  # IHE PaLM laboratory report data processing entry (CI-SIS BIO)
    "1.3.6.1.4.1.19376.1.3.1.4",  # IHE PaLM laboratory battery organizer
    "1.3.6.1.4.1.19376.1.3.1.6",  # IHE PaLM laboratory observation
}

# --- sections ---------------------------------------------------------------------------------
# Fallback kind of an entry without a known template, by the LOINC code of its section.
SECTION_KINDS = {
    "48765-2": "allergy",  # allergies and adverse reactions
    "11450-4": "condition",  # problem list
    "11348-0": "condition",  # past medical history (CI-SIS "Antécédents médicaux")
    "10219-4": "condition",  # preoperative diagnosis
    "10218-6": "condition",  # postoperative diagnosis
    "59769-0": "condition",  # postprocedure diagnosis
    "59768-2": "condition",  # procedure indications
    "42347-5": "condition",  # admission diagnosis
    "46241-6": "condition",  # hospital admission diagnosis
    "11535-2": "condition",  # hospital discharge diagnosis
    "75310-3": "condition",  # health concerns
    "10160-0": "medication",  # history of medication use
    "42346-7": "medication",  # medications on admission (CI-SIS "Traitements à l'admission")
    "18610-6": "medication",  # medication administered (CI-SIS "Médicaments administrés")
    "10183-2": "medication",  # hospital discharge medications
    "75311-1": "medication",  # discharge medications
    PRESCRIPTION_SECTION_CODE: "medication",  # prescriptions (eP-MED)
    "11369-6": "immunization",  # immunizations / "Historique des vaccinations"
    "47519-4": "procedure",  # history of procedures (CI-SIS "Antécédents chirurgicaux")
    "29554-3": "procedure",  # procedures (CI-SIS "Actes et interventions")
    "30954-2": "observation",  # results
    "8716-3": "observation",  # vital signs
}
# IHE PaLM laboratory specialty / report item sections (CI-SIS BIO-CR-BIO chapters).
LAB_SECTION_TEMPLATES = {"1.3.6.1.4.1.19376.1.3.3.2.1", "1.3.6.1.4.1.19376.1.3.3.2.2"}
# The category a condition gets from the section it stands in (when its act says none).
SECTION_CATEGORIES = {
    "10219-4": "preoperative diagnosis",
    "10218-6": "postoperative diagnosis",
    "59769-0": "postprocedure diagnosis",
    "59768-2": "procedure indication",
    "42347-5": "admission diagnosis",
    "46241-6": "admission diagnosis",
    "11535-2": "discharge diagnosis",
    "18776-5": "care plan",
    "75310-3": "health concern",
    "55109-3": "complication",
    "59776-5": "procedure finding",
}
# Diagnosis sections that C-CDA defines without entries (the operative note's postoperative
# diagnosis): when such a section holds no entry, its narrative lines are the diagnoses,
# kept as uncoded conditions.
NARRATIVE_DIAGNOSIS_SECTIONS = {"10218-6", "10219-4", "59769-0"}
# Operative and procedure notes name the procedure they document in the header
# (documentationOf/serviceEvent/code): it is a procedure fact of the document.
PROCEDURE_NOTE_TYPES = {
    "11504-8",
    "28570-0",
    "34874-8",
}  # surgical operation note, procedure note, surgery operative note

# --- negative statements ----------------------------------------------------------------------
# The "no known ..." codes and the generic allergen classes are the shared table
# apps/clinical/data/no_known_codes.json (common.no_known_label / negated_substance_label),
# so that FHIR and CDA say the same thing. Below: only what CDA adds to it.
SNOMED_OID = "2.16.840.1.113883.6.96"
# The IPS "absent or unknown" code system (used by CI-SIS JDV_AbsentOrUnknownAllergy_CISIS),
# named by OID in CDA and by URI in the shared table.
IPS_ABSENT_UNKNOWN = {
    "2.16.840.1.113883.5.1150.1": "http://hl7.org/fhir/uv/ips/CodeSystem/absent-unknown-uv-ips",
}
# More generic allergen classes met in CDA exports: a negated allergy to one of them denies
# the class (English label as in the shared table).
MORE_ALLERGY_CLASSES = {
    "373873005": "No known drug allergies",  # pharmaceutical / biologic product
    "255620007": "No known food allergies",  # food
    "111088007": "No known latex allergy",  # latex
}
# Values that say nothing but "a problem": negated, they deny any problem.
GENERIC_PROBLEM_VALUES = {"55607006", "404684003", "64572001"}  # problem, clinical finding, disease
GENERIC_MEDICATION_CODES = {"410942007", "373873005"}  # drug or medicament, pharmaceutical product
NO_KNOWN_DEFAULTS = {
    "allergy": "No known allergies",
    "condition": "No known problems",
    "medication": "No known medications",
}
# The statements in French, for French documents (whose other facts read in French too).
NO_KNOWN_FRENCH = {
    "No known allergies": "Aucune allergie connue",
    "No known drug allergies": "Aucune allergie médicamenteuse connue",
    "No known medication allergies": "Aucune allergie médicamenteuse connue",
    "No known food allergies": "Aucune allergie alimentaire connue",
    "No known environmental allergies": "Aucune allergie environnementale connue",
    "No known latex allergy": "Aucune allergie au latex connue",
    "No information about allergies": "Pas d'information sur les allergies",
    "No known problems": "Aucun problème connu",
    "No current problems": "Aucun problème actuel",
    "No information about problems": "Pas d'information sur les problèmes",
    "No known medications": "Aucun traitement connu",
    "No information about medications": "Pas d'information sur les traitements",
}


def template_ids(element: object) -> set[str]:
    """The templateId roots declared directly on ``element``."""
    return {
        template.get("root", "")
        for template in element.findall("{urn:hl7-org:v3}templateId")  # type: ignore[attr-defined]
    }
