"""What each profession may see: document categories per profession ("matrice d'habilitation").

Applied on top of every professional basis; never to the person themself or
those acting for them. Configurable through settings.PROFESSION_DOCUMENT_MATRIX.
"""

from __future__ import annotations

from django.conf import settings

ALL = frozenset(
    {"prescription", "lab_result", "imaging", "report", "vaccination", "certificate", "summary", "other", "directives"}
)

# Modelled on the national matrix: doctors see everything; other professions what
# their care needs (a dentist does not see advance directives, a physiotherapist
# no delivery or lab reports...).
DEFAULT_MATRIX: dict[str, frozenset[str]] = {
    "general_practitioner": ALL,
    "specialist": ALL,
    "midwife": ALL - {"directives"},
    "nurse": frozenset({"prescription", "lab_result", "vaccination", "summary", "report", "directives"}),
    "pharmacist": frozenset({"prescription", "lab_result", "vaccination", "summary"}),
    "dentist": frozenset({"prescription", "imaging", "summary", "vaccination"}),
    "physiotherapist": frozenset({"prescription", "imaging", "summary"}),
}


def categories_for(profession: str) -> frozenset[str]:
    matrix = getattr(settings, "PROFESSION_DOCUMENT_MATRIX", None) or DEFAULT_MATRIX
    return frozenset(matrix.get(profession, frozenset()))
