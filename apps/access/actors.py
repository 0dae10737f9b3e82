"""Actors that are not people logging in, so that they too pass through the one door."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImportService:
    """The operators' bulk import command, acting on the instruction of a named operator."""

    operator: str
    uuid: uuid.UUID = field(default=uuid.UUID("00000000-0000-0000-0000-00000000000a"))
    is_authenticated: bool = True
    is_active: bool = True
    is_staff: bool = False
    is_support_agent: bool = False
    is_professional: bool = False
    role: str = "import"
    pk: None = None

    def __str__(self) -> str:
        return f"bulk import (operator {self.operator})"
