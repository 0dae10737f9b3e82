"""Who may knock at the one door: people logging in (``User``) and actors that are not people
logging in (``ImportService``), so that they too pass through it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID


class Actor(Protocol):
    """What the policy reads of whoever acts: a ``User`` and every service actor below satisfy it.

    Read-only properties, so that model fields, properties and frozen dataclass fields all fit.
    """

    @property
    def pk(self) -> Any: ...  # a user's primary key; None for a service actor (no account row)

    @property
    def uuid(self) -> UUID: ...  # what the journal names the actor by

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def is_active(self) -> bool: ...

    @property
    def is_staff(self) -> bool: ...  # an operator: runs the service, never reads medical content

    @property
    def is_professional(self) -> bool: ...

    @property
    def is_support_agent(self) -> bool: ...

    @property
    def role(self) -> str: ...

    @property
    def profession(self) -> str: ...  # the profession matrix; "" when not a professional

    @property
    def support_structure_id(self) -> int | None: ...  # a support agent's desk


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
    profession: str = ""
    support_structure_id: None = None
    pk: None = None

    def __str__(self) -> str:
        return f"bulk import (operator {self.operator})"
