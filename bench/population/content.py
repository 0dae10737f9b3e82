# ruff: noqa: E501 - catalogues, one entry per line is easier to read
"""Fixed catalogues for the benchmark population (seed_bench): document types, French clinical
vocabulary, LOINC series and coded items. Everything is drawn from these lists with a seeded
``random.Random`` so that the same seed gives the same population."""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from apps.records.doctypes import category_for

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
CVX = "http://hl7.org/fhir/sid/cvx"

# (share, type code, type display, titles): the national mix, about 39% lab results,
# 23% prescriptions, 9% imaging, 29% everything else.
DOCUMENT_TYPES: list[tuple[float, str, str, tuple[str, ...]]] = [
    (0.39, "11502-2", "Compte rendu d'examens biologiques", (
        "Bilan biologique", "Bilan lipidique", "Numération formule sanguine", "Bilan rénal",
        "Hémoglobine glyquée", "Bilan hépatique", "Bilan thyroïdien", "Ionogramme sanguin",
    )),
    (0.18, "57833-6", "Prescription de médicaments", ("Ordonnance", "Ordonnance de renouvellement")),
    (0.05, "57832-8", "Prescription d'examens", ("Ordonnance d'examens biologiques", "Prescription de kinésithérapie")),
    (0.09, "18748-4", "Compte rendu d'imagerie médicale", (
        "Radiographie thoracique", "Échographie abdominale", "IRM du genou", "Scanner thoracique",
        "Mammographie", "Échographie cardiaque", "Radiographie du rachis lombaire",
    )),
    (0.11, "11488-4", "Note de consultation", ("Consultation de cardiologie", "Consultation de médecine générale",
                                               "Consultation d'endocrinologie", "Consultation de néphrologie")),
    (0.06, "18842-5", "Lettre de liaison de sortie", ("Lettre de sortie d'hospitalisation", "Compte rendu d'hospitalisation")),
    (0.04, "11369-6", "Historique des vaccinations", ("Carnet de vaccination", "Certificat de vaccination")),
    (0.03, "CERT_DECL", "Certificat", ("Certificat médical", "Certificat de non contre-indication au sport")),
    (0.03, "34133-9", "Synthèse médicale", ("Volet de synthèse médicale", "Synthèse annuelle")),
    (0.02, "OTHER", "Document", ("Courrier", "Document scanné")),
]  # fmt: skip
TYPE_WEIGHTS = [row[0] for row in DOCUMENT_TYPES]
assert abs(sum(TYPE_WEIGHTS) - 1.0) < 1e-9

AUTHORS = [
    ("Dr Sophie Bernard", "Médecin généraliste"), ("Dr Marc Petit", "Médecin généraliste"),
    ("Dr Hélène Dubois", "Cardiologue"), ("Dr Karim Haddad", "Endocrinologue"),
    ("Dr Nathalie Moreau", "Néphrologue"), ("Dr Julien Laurent", "Radiologue"),
    ("Dr Claire Fontaine", "Biologiste"), ("Dr Thomas Girard", "Biologiste"),
    ("Dr Amina Benali", "Pneumologue"), ("Dr Pierre Roux", "Médecin interniste"),
    ("Dr Lucie Garnier", "Rhumatologue"), ("Dr Antoine Faure", "Radiologue"),
    ("Dr Sarah Cohen", "Dermatologue"), ("Dr Paul Mercier", "Chirurgien orthopédiste"),
    ("Dr Élodie Blanc", "Gynécologue"), ("Dr Nicolas Chevalier", "Gastro-entérologue"),
    ("Mme Isabelle Perrin", "Pharmacienne"), ("M. Hugo Lambert", "Infirmier"),
]  # fmt: skip
ORGANISATIONS = [
    "Cabinet médical des Tilleuls, Lyon", "Laboratoire Cerballiance Lyon Sud", "Laboratoire Biogroup Nantes",
    "CHU de Bordeaux", "Hôpital Édouard Herriot, Lyon", "Clinique du Parc, Toulouse", "Centre d'imagerie Pasteur, Lille",
    "Hôpital Européen Georges Pompidou, Paris", "Centre hospitalier de Valence", "Maison de santé de Quimper",
    "Laboratoire Synlab Strasbourg", "Cabinet de radiologie Saint-Michel, Marseille", "CHU de Rennes",
    "Pharmacie de la Gare, Dijon", "Centre de vaccination de Grenoble", "Clinique Saint-Jean, Montpellier",
]  # fmt: skip

GIVEN = ["Marie", "Jean", "Nathalie", "Pierre", "Isabelle", "Michel", "Sylvie", "Philippe", "Catherine", "Alain",
         "Christine", "Patrick", "Sandrine", "Nicolas", "Julie", "Thomas", "Camille", "Lucas", "Emma", "Hugo",
         "Léa", "Louis", "Chloé", "Gabriel", "Manon", "Arthur", "Inès", "Jules", "Sarah", "Adam"]  # fmt: skip
FAMILY = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
          "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
          "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefèvre", "Faure", "André"]  # fmt: skip

# Single words a search can look for; each occurs in the generated text.
SYMPTOMS = "dyspnée asthénie céphalées vertiges palpitations toux fièvre nausées douleurs œdèmes lombalgie arthralgies " \
    "insomnie anorexie amaigrissement prurit paresthésies tachycardie bradycardie polyurie polydipsie dysphagie " \
    "épistaxis hématurie syncope claudication"  # fmt: skip
ANATOMY = "thorax abdomen genou rachis poumon cœur rein foie pancréas thyroïde prostate vésicule hanche épaule " \
    "cheville carotide aorte colon estomac œsophage vessie utérus sein cerveau moelle"  # fmt: skip
FINDINGS = "épanchement nodule sténose calcification hypertrophie dilatation opacité fracture kyste adénopathie " \
    "infiltrat emphysème stéatose lithiase hernie arthrose ostéoporose athérome anévrisme thrombose " \
    "fibrillation insuffisance hyperglycémie hypokaliémie hyponatrémie anémie thrombopénie leucocytose " \
    "dyslipidémie microalbuminurie protéinurie cardiomégalie bronchectasie diverticulose polypose " \
    "rétinopathie neuropathie néphropathie valvulopathie cardiopathie hépatomégalie splénomégalie"  # fmt: skip
DRUGS = "metformine insuline ramipril amlodipine bisoprolol atorvastatine rosuvastatine furosémide " \
    "spironolactone apixaban rivaroxaban warfarine aspirine clopidogrel lévothyroxine oméprazole " \
    "paracétamol tramadol prednisolone salbutamol budésonide allopurinol colchicine sitagliptine " \
    "empagliflozine dulaglutide losartan valsartan hydrochlorothiazide amoxicilline ézétimibe " \
    "digoxine amiodarone nébivolol périndopril indapamide gliclazide liraglutide sémaglutide pantoprazole " \
    "alendronate méthotrexate hydroxychloroquine gabapentine prégabaline escitalopram mirtazapine"  # fmt: skip
CARE = "consultation hospitalisation surveillance dépistage bilan échographie radiographie scanner scintigraphie " \
    "électrocardiogramme holter spirométrie coloscopie fibroscopie biopsie kinésithérapie rééducation " \
    "vaccination diététique éducation observance titration sevrage pansement perfusion ponction"  # fmt: skip
SPECIALTIES = "cardiologie pneumologie néphrologie endocrinologie diabétologie rhumatologie neurologie " \
    "gastroentérologie dermatologie ophtalmologie gériatrie oncologie urologie psychiatrie hématologie " \
    "angiologie allergologie gynécologie orthopédie addictologie"  # fmt: skip
EXAMS = "glycémie créatininémie kaliémie natrémie cholestérolémie uricémie hémoglobine ferritine albuminémie " \
    "transaminases troponine fibrinogène plaquettes leucocytes lymphocytes ionogramme sérologie " \
    "hémoculture uroculture bandelette audiogramme densitométrie mammographie angioscanner doppler " \
    "échocardiographie polysomnographie oxymétrie"  # fmt: skip
QUALIFIERS = "stable modéré sévère chronique aigu bilatéral gauche droit récent ancien discret franc normal " \
    "satisfaisant amélioré aggravé persistant intermittent nocturne postprandial"  # fmt: skip
CONNECTORS = ["Le patient signale", "Absence de", "On note", "Persistance de", "Pas de", "Majoration de",
              "Régression de", "Découverte de", "Antécédent de", "Suspicion de", "Contrôle de", "Évolution de"]  # fmt: skip
VOCABULARY = {name: words.split() for name, words in
              {"symptom": SYMPTOMS, "anatomy": ANATOMY, "finding": FINDINGS, "drug": DRUGS,
               "care": CARE, "qualifier": QUALIFIERS,
               "specialty": SPECIALTIES, "exam": EXAMS}.items()}  # fmt: skip
SEARCH_WORDS = sorted({w for words in VOCABULARY.values() for w in words if len(w) >= 5})

# code, display, unit, reference low, reference high (None: one-sided)
SERIES: list[tuple[str, str, str, float | None, float | None]] = [
    ("8480-6", "Pression artérielle systolique", "mm[Hg]", 100, 140), ("8462-4", "Pression artérielle diastolique", "mm[Hg]", 60, 90),
    ("8867-4", "Fréquence cardiaque", "/min", 60, 100), ("29463-7", "Poids", "kg", None, None),
    ("39156-5", "Indice de masse corporelle", "kg/m2", 18.5, 25), ("8310-5", "Température", "Cel", 36.1, 37.8),
    ("2708-6", "Saturation en oxygène", "%", 95, 100), ("9279-1", "Fréquence respiratoire", "/min", 12, 20),
    ("2345-7", "Glycémie à jeun", "mg/dL", 70, 99), ("4548-4", "Hémoglobine glyquée (HbA1c)", "%", 4, 5.6),
    ("2160-0", "Créatinine", "mg/dL", 0.6, 1.3), ("33914-3", "Débit de filtration glomérulaire estimé", "mL/min/{1.73_m2}", 60, None),
    ("3094-0", "Urée", "mg/dL", 7, 20), ("2951-2", "Sodium", "mmol/L", 136, 145), ("2823-3", "Potassium", "mmol/L", 3.5, 5.1),
    ("2075-0", "Chlore", "mmol/L", 98, 107), ("2028-9", "Bicarbonates", "mmol/L", 22, 29), ("17861-6", "Calcium", "mg/dL", 8.5, 10.2),
    ("2093-3", "Cholestérol total", "mg/dL", None, 200), ("2571-8", "Triglycérides", "mg/dL", None, 150),
    ("2085-9", "Cholestérol HDL", "mg/dL", 40, None), ("13457-7", "Cholestérol LDL calculé", "mg/dL", None, 130),
    ("1742-6", "ALAT", "U/L", 7, 56), ("1920-8", "ASAT", "U/L", 10, 40), ("6768-6", "Phosphatases alcalines", "U/L", 44, 147),
    ("1975-2", "Bilirubine totale", "mg/dL", 0.1, 1.2), ("2885-2", "Protéines totales", "g/dL", 6, 8.3),
    ("1751-7", "Albumine", "g/dL", 3.5, 5), ("2324-2", "Gamma-GT", "U/L", 8, 61), ("3016-3", "TSH", "m[IU]/L", 0.4, 4),
    ("3024-7", "T4 libre", "ng/dL", 0.8, 1.8), ("2276-4", "Ferritine", "ng/mL", 30, 400), ("2498-4", "Fer sérique", "ug/dL", 60, 170),
    ("2777-1", "Phosphore", "mg/dL", 2.5, 4.5), ("19123-9", "Magnésium", "mg/dL", 1.7, 2.2), ("2532-0", "LDH", "U/L", 140, 280),
    ("1988-5", "Protéine C réactive", "mg/L", None, 5), ("30341-2", "Vitesse de sédimentation", "mm/h", None, 20),
    ("3084-1", "Acide urique", "mg/dL", 3.5, 7.2), ("14959-1", "Microalbuminurie / créatinine", "mg/g", None, 30),
    ("2157-6", "Créatine kinase", "U/L", 30, 200), ("6690-2", "Leucocytes", "10*3/uL", 4.5, 11),
    ("789-8", "Hématies", "10*6/uL", 4.2, 5.9), ("718-7", "Hémoglobine", "g/dL", 12, 17.5), ("4544-3", "Hématocrite", "%", 36, 50),
    ("787-2", "VGM", "fL", 80, 100), ("785-6", "TCMH", "pg", 27, 33), ("786-4", "CCMH", "g/dL", 32, 36),
    ("777-3", "Plaquettes", "10*3/uL", 150, 400), ("770-8", "Polynucléaires neutrophiles", "%", 40, 70),
    ("736-9", "Lymphocytes", "%", 20, 40), ("5905-5", "Monocytes", "%", 2, 8), ("713-8", "Éosinophiles", "%", 1, 4),
    ("21000-5", "IDR", "%", 11.5, 14.5), ("6301-6", "INR", "{INR}", 0.8, 1.2), ("5902-2", "Temps de Quick", "s", 11, 13.5),
    ("2857-1", "PSA total", "ng/mL", None, 4), ("1989-3", "Vitamine D (25-OH)", "ng/mL", 30, 100),
    ("2132-9", "Vitamine B12", "pg/mL", 200, 900), ("33762-6", "NT-proBNP", "pg/mL", None, 125),
]  # fmt: skip
VITALS = SERIES[:8]
LABS = SERIES[8:]

CONDITIONS = [
    ("44054006", "Diabète de type 2"), ("38341003", "Hypertension artérielle"), ("55822004", "Hyperlipidémie"),
    ("709044004", "Maladie rénale chronique"), ("49436004", "Fibrillation auriculaire"), ("84114007", "Insuffisance cardiaque"),
    ("13645005", "Bronchopneumopathie chronique obstructive"), ("195967001", "Asthme"), ("40930008", "Hypothyroïdie"),
    ("35489007", "Dépression"), ("396275006", "Arthrose"), ("64859006", "Ostéoporose"), ("90560007", "Goutte"),
    ("235595009", "Reflux gastro-œsophagien"), ("73430006", "Apnée du sommeil"),
]  # fmt: skip
MEDICATIONS = [
    ("A10BA02", "Metformine 1000 mg"), ("C09AA05", "Ramipril 5 mg"), ("C08CA01", "Amlodipine 5 mg"),
    ("C07AB07", "Bisoprolol 2,5 mg"), ("C10AA05", "Atorvastatine 20 mg"), ("C03CA01", "Furosémide 40 mg"),
    ("B01AF02", "Apixaban 5 mg"), ("B01AC06", "Aspirine 75 mg"), ("H03AA01", "Lévothyroxine 75 µg"),
    ("A02BC01", "Oméprazole 20 mg"), ("N02BE01", "Paracétamol 1 g"), ("R03AC02", "Salbutamol 100 µg"),
    ("M04AA01", "Allopurinol 100 mg"), ("A10BK03", "Empagliflozine 10 mg"), ("A10AE04", "Insuline glargine"),
    ("N06AB06", "Sertraline 50 mg"), ("C09CA01", "Losartan 50 mg"), ("C03DA01", "Spironolactone 25 mg"),
]  # fmt: skip
ALLERGIES = [
    ("764146007", "Pénicilline"), ("387458008", "Aspirine"), ("256259004", "Pollen"), ("91935009", "Arachide"),
    ("111088007", "Latex"), ("387207008", "Ibuprofène"),
]  # fmt: skip
IMMUNIZATIONS = [
    ("140", "Grippe saisonnière"), ("208", "COVID-19 (Pfizer)"), ("133", "Pneumocoque 13-valent"),
    ("115", "dTcaP (diphtérie, tétanos, coqueluche)"), ("121", "Zona"), ("43", "Hépatite B"),
    ("03", "ROR (rougeole, oreillons, rubéole)"), ("33", "Pneumocoque 23-valent"),
]  # fmt: skip


def pick_type(rng: random.Random) -> tuple[str, str, str, str]:
    """(type code, type display, category, title) of one document in the national mix."""
    _share, code, display, titles = rng.choices(DOCUMENT_TYPES, weights=TYPE_WEIGHTS)[0]
    return code, display, category_for(code), rng.choice(titles)


def fold(text: str) -> str:
    """The summary builder's text key: accents off, case folded, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


class TextPool:
    """A fixed pool of French clinical paragraphs; a document's text is a header plus a few of them.

    Generating each text word by word would dominate the run; a pool of a few thousand
    paragraphs still gives every search term thousands of distinct documents."""

    def __init__(self, rng: random.Random, size: int = 3000) -> None:
        self.paragraphs = [self._paragraph(rng) for _ in range(size)]
        searchable = frozenset(SEARCH_WORDS)
        self.words = [frozenset(re.findall(r"\w+", p)) & searchable for p in self.paragraphs]
        self.used: set[int] = set()

    @staticmethod
    def _sentence(rng: random.Random) -> str:
        v = VOCABULARY
        shape = rng.randrange(6)
        if shape == 0:
            return f"{rng.choice(CONNECTORS)} {rng.choice(v['symptom'])} {rng.choice(v['qualifier'])}."
        if shape == 1:
            return (
                f"{rng.choice(CONNECTORS)} {rng.choice(v['finding'])} au niveau du {rng.choice(v['anatomy'])}, "
                f"aspect {rng.choice(v['qualifier'])}."
            )
        if shape == 2:
            return (
                f"Traitement par {rng.choice(v['drug'])} poursuivi, {rng.choice(v['drug'])} "
                f"{rng.choice(['introduit', 'arrêté', 'adapté', 'maintenu'])}."
            )
        if shape == 4:
            return (
                f"Avis de {rng.choice(v['specialty'])} demandé ; {rng.choice(v['exam'])} et "
                f"{rng.choice(v['exam'])} {rng.choice(v['qualifier'])}s."
            )
        return f"Prévoir {rng.choice(v['care'])} et {rng.choice(v['care'])} de contrôle dans {rng.randint(1, 12)} mois."

    def _paragraph(self, rng: random.Random) -> str:
        return " ".join(self._sentence(rng) for _ in range(rng.randint(4, 7)))

    def text(self, rng: random.Random, *, header: str) -> str:
        picks = rng.sample(range(len(self.paragraphs)), rng.randint(2, 4))
        self.used.update(picks)
        return header + "\n\n" + "\n\n".join(self.paragraphs[i] for i in picks)

    def search_terms(self, rng: random.Random, count: int) -> list[str]:
        """``count`` distinct words that occur in at least one generated document."""
        found = sorted(set().union(*(self.words[i] for i in self.used))) if self.used else []
        return rng.sample(found, min(count, len(found)))


@dataclass
class SeriesState:
    """One patient's course in one LOINC series: a baseline and a slow drift over the years."""

    code: str
    display: str
    unit: str
    low: float | None
    high: float | None
    base: float
    drift: float  # per year

    @classmethod
    def start(cls, rng: random.Random, row: tuple) -> SeriesState:
        code, display, unit, low, high = row
        lo = low if low is not None else (high or 80) * 0.5
        hi = high if high is not None else (low or 50) * 2
        if code == "29463-7":
            lo, hi = 55.0, 95.0
        base = rng.uniform(lo, hi) * rng.choice([1.0, 1.0, 1.0, 1.15, 0.9])
        return cls(code, display, unit, low, high, base, rng.gauss(0, (hi - lo) * 0.03))

    def value(self, rng: random.Random, when: date, origin: date) -> Decimal:
        years = (when - origin).days / 365.25
        raw = self.base + self.drift * years + rng.gauss(0, abs(self.base) * 0.05)
        return Decimal(str(round(max(raw, 0.01), 2)))

    def interpretation(self, value: Decimal) -> str:
        if self.low is not None and value < Decimal(str(self.low)):
            return "L"
        if self.high is not None and value > Decimal(str(self.high)):
            return "H"
        return "N"


def minimal_pdf(lines: list[str]) -> bytes:
    """A small valid one-page PDF showing ``lines`` (Latin-1, Helvetica): what a download returns."""

    def escape(text: str) -> str:
        safe = text.encode("latin-1", "replace").decode("latin-1")
        return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = "BT /F1 11 Tf 50 800 Td 14 TL " + " ".join(f"({escape(line)}) '" for line in lines) + " ET"
    body = stream.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(body)).encode() + b" >>\nstream\n" + body + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + content + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
