"""Structured sources (FHIR R4, CDA R2) → ParsedDocument. Pure functions: no database access."""

from __future__ import annotations

from apps.clinical.parsing import ParsedDocument, ParseError

from .cda import parse_cda
from .fhir import parse_fhir

__all__ = ["parse_cda", "parse_fhir", "parse_structured"]


def parse_structured(content: bytes, kind: str) -> ParsedDocument:
    """Parse ``content`` as ``kind`` ("fhir": JSON or XML, "cda")."""
    if kind == "fhir":
        return parse_fhir(content)
    if kind == "cda":
        return parse_cda(content)
    raise ParseError("unsupported_format", kind)
