"""Finding a person's record by identity: one matcher for the professional's search, the support
agent's search and the bulk import.

Exact match only, never browsing: by INS, or by family name + first given name + birth date,
accents, case, hyphens and extra spaces aside. A partial identity finds nothing, and so does an
ambiguous one (two people with the same traits): the caller cannot tell either from "nobody".
Journaling and refusals stay with each caller.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from apps.records.models import Record


def fold(text: str) -> str:
    """Accents, case, hyphens and extra spaces aside: "Lefèvre-Durand" and "LEFEVRE  durand" fold alike."""
    text = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().replace("-", " ").split())


def first_given_name(given_names: str) -> str:
    """The first given name, folded: "Jean-Marie Paul" -> "jean" (a hyphen separates like a space)."""
    folded = fold(given_names)
    return folded.split(" ")[0] if folded else ""


def normalise_ins(ins: str) -> str:
    """As stored: no spaces, upper case (2A/2B for Corsica)."""
    return "".join((ins or "").split()).upper()


def record_matching(
    *, ins: str = "", family_name: str = "", given_name: str = "", birth_date: date | None = None
) -> Record | None:
    """The one record with this INS, or with these traits; None when partial, unknown or ambiguous.

    With an INS the traits are not looked at: the INS is the national identifier.
    """
    if ins.strip():
        return Record.objects.filter(ins=normalise_ins(ins)).first()
    wanted = (fold(family_name), first_given_name(given_name))
    if not (all(wanted) and birth_date):
        return None
    # The birth date narrows to a handful; names are compared folded, which SQL cannot do portably.
    matches = [
        record
        for record in Record.objects.filter(birth_date=birth_date)
        if (fold(record.family_name), first_given_name(record.given_names)) == wanted
    ]
    return matches[0] if len(matches) == 1 else None
