"""The words people use for their health data ("cholestérol", "tension", "vaccin grippe", "my last
blood test"), mapped to codes (LOINC, ATC, CIM-10, SNOMED CT, CVX) and kinds of facts.

The table is data (data/lay_terms.json, versioned and reviewed); this module only reads it and says
which of its entries a query names. Turning entries into a database condition is apps.clinical.search.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from apps.clinical.models import FactKind, fold

TABLE_PATH = Path(__file__).parent / "data" / "lay_terms.json"

_WORD = re.compile(r"[a-z0-9]+")
# A query word this long may be the start of a term's word ("chol" for "cholestérol").
MIN_PREFIX = 3
# A term's word this long may be the start of a query word ("vaccin" in "vaccination"); shorter ones
# ("test", "rein") must be typed whole: "testostérone" is not a test result list.
MIN_TERM_PREFIX = 5


def stem(word: str) -> str:
    """A folded word without its plural mark ("vaccins", "taux"), the same on both sides of a comparison."""
    if len(word) > 3 and word[-1] in "sx":
        return word[:-1]
    return word


def words_of(text: str) -> list[str]:
    """The folded, stemmed words of a text (punctuation and apostrophes split words: "d'asthme")."""
    return [stem(word) for word in _WORD.findall(fold(text))]


def word_matches(query_word: str, term_word: str) -> bool:
    if query_word == term_word:
        return True
    if len(query_word) >= MIN_PREFIX and term_word.startswith(query_word):
        return True
    return len(term_word) >= MIN_TERM_PREFIX and query_word.startswith(term_word)


@dataclass(frozen=True)
class LayEntry:
    """One group of things a person may ask for, with the codes and kinds it means."""

    id: str
    terms_fr: tuple[str, ...]
    terms_en: tuple[str, ...]
    terms: tuple[tuple[str, ...], ...]  # every term as its significant folded words
    loinc: frozenset[str] = frozenset()
    atc_prefixes: tuple[str, ...] = ()
    icd10_prefixes: tuple[str, ...] = ()
    snomed: frozenset[str] = frozenset()
    cvx: frozenset[str] = frozenset()
    kinds: tuple[str, ...] = ()
    display_words: tuple[str, ...] = ()
    scope: str = ""  # "laboratory": laboratory results only
    latest: bool = False  # only the results of the latest date
    suggest: bool = False

    @property
    def coded(self) -> bool:
        return bool(self.loinc or self.atc_prefixes or self.icd10_prefixes or self.snomed or self.cvx)

    def label(self, language: str) -> str:
        """How the entry is named to a reader: its first term in their language."""
        terms = self.terms_fr if (language or "").startswith("fr") else self.terms_en
        return (terms or self.terms_en or self.terms_fr)[0]


@dataclass(frozen=True)
class LayTable:
    version: str
    entries: tuple[LayEntry, ...]
    stopwords: frozenset[str]
    vital_signs_loinc: frozenset[str]


def _cvx_codes(codes: list[str]) -> frozenset[str]:
    # Sources write CVX codes with or without a leading zero ("09", "9"): both are kept.
    return frozenset({code for raw in codes for code in (raw, raw.lstrip("0") or "0", raw.zfill(2))})


@cache
def lay_table() -> LayTable:
    data = json.loads(TABLE_PATH.read_text(encoding="utf-8"))
    stopwords = frozenset(stem(word) for word in data["stopwords"]) | frozenset(data["stopwords"])
    entries = []
    for raw in data["entries"]:
        kinds = tuple(raw.get("kinds", ()))
        unknown = set(kinds) - set(FactKind.values)
        if unknown:
            raise ValueError(f"lay term {raw['id']!r}: unknown kinds {sorted(unknown)}")
        terms = []
        for term in [*raw.get("terms_fr", ()), *raw.get("terms_en", ())]:
            significant = tuple(word for word in words_of(term) if word not in stopwords)
            if significant and significant not in terms:
                terms.append(significant)
        entries.append(
            LayEntry(
                id=raw["id"],
                terms_fr=tuple(raw.get("terms_fr", ())),
                terms_en=tuple(raw.get("terms_en", ())),
                terms=tuple(terms),
                loinc=frozenset(raw.get("loinc", ())),
                atc_prefixes=tuple(code.upper() for code in raw.get("atc_prefixes", ())),
                icd10_prefixes=tuple(code.upper() for code in raw.get("icd10_prefixes", ())),
                snomed=frozenset(raw.get("snomed", ())),
                cvx=_cvx_codes(raw.get("cvx", [])),
                kinds=kinds,
                display_words=tuple(fold(word) for word in raw.get("display_words", ())),
                scope=raw.get("scope", ""),
                latest=bool(raw.get("latest", False)),
                suggest=bool(raw.get("suggest", False)),
            )
        )
    return LayTable(
        version=data["version"],
        entries=tuple(entries),
        stopwords=stopwords,
        vital_signs_loinc=frozenset(data.get("vital_signs_loinc", ())),
    )


@dataclass(frozen=True)
class Interpretation:
    """What a query asks for: the table's entries it names, and its words no entry took."""

    words: tuple[str, ...]  # the query's significant words (folded, stemmed, no stopwords)
    entries: tuple[LayEntry, ...]
    leftover: tuple[str, ...]

    @property
    def latest_only(self) -> bool:
        return any(entry.latest for entry in self.entries)


def _consumed(term: tuple[str, ...], words: tuple[str, ...]) -> frozenset[int] | None:
    """The positions of the query words that a term's words all find, or None if one is missing."""
    taken: set[int] = set()
    for term_word in term:
        position = next(
            (i for i, word in enumerate(words) if i not in taken and word_matches(word, term_word)),
            None,
        )
        if position is None:
            return None
        taken.add(position)
    return frozenset(taken)


def interpret(query: str, table: LayTable | None = None) -> Interpretation:
    """The entries a query names. Each entry is matched by its best term (the one using the most
    query words); an entry whose words another entry's term also took, and more, gives way to it
    ("vaccin grippe" is the flu vaccines, not every vaccine and every flu)."""
    table = table or lay_table()
    words = tuple(word for word in words_of(query) if word not in table.stopwords)
    matched: list[tuple[LayEntry, frozenset[int]]] = []
    for entry in table.entries:
        best: frozenset[int] | None = None
        for term in entry.terms:
            taken = _consumed(term, words)
            if taken is not None and (best is None or len(taken) > len(best)):
                best = taken
        if best:
            matched.append((entry, best))
    kept = [(entry, taken) for entry, taken in matched if not any(taken < other for _e, other in matched)]
    used = frozenset().union(*(taken for _entry, taken in kept)) if kept else frozenset()
    return Interpretation(
        words=words,
        entries=tuple(entry for entry, _taken in kept),
        leftover=tuple(word for i, word in enumerate(words) if i not in used),
    )


def suggestions(language: str, table: LayTable | None = None) -> list[str]:
    """A few words worth trying, in the reader's language."""
    table = table or lay_table()
    return [entry.label(language) for entry in table.entries if entry.suggest]
