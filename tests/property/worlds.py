"""Generated worlds for the policy properties: a plain description (``WorldSpec``, what hypothesis
draws and shrinks, and what the readable statement reads) and its rows in the database (``build``,
bulk creates only, so a world costs a handful of queries).

A world is people (patients, professionals of every profession, support agents, operators, some
inactive), their records and their children's records (guardianships, some ended), documents
(categories, hidden from professionals, confidential from the parents, statuses), privacy settings
with their history, delegations and support mandates (scopes; active, expired, revoked, never
accepted or confirmed, from another structure), care relationships, access codes, emergencies.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import strategies as st

from apps.access.models import AccessCode, AccessCodeUse, CareRelationship, EmergencyAccess
from apps.accounts.models import Profession, Role, SupportStructure, User
from apps.assistance.models import Mandate, MandateScope
from apps.consents.models import SettingChange, SettingKey
from apps.delegations.models import Delegation, Scope
from apps.records.models import Document, DocumentCategory, DocumentStatus, Guardianship, Record

# Unique values across every world of the run (rows are rolled back, sequences are not).
_serial = itertools.count(1)

KINDS = ("patient", "professional", "agent", "operator")
# "" is a professional whose profession is not in the matrix: they see no category.
PROFESSIONS = (*Profession.values, "")
# active: in force; expired: its end date passed; revoked: stopped; pending: never accepted/confirmed.
STATES = ("active", "expired", "revoked", "pending")


@dataclass(frozen=True)
class Person:
    kind: str  # patient / professional / agent / operator
    active: bool = True
    owns_record: bool = True
    profession: str = ""  # professionals
    structure: int = 0  # agents: which of the two structures
    two_factor: bool = True  # agents: a confirmed second factor


@dataclass(frozen=True)
class Child:
    guardians: tuple[tuple[int, bool], ...]  # (person, ended)


@dataclass(frozen=True)
class Doc:
    record: int
    category: str
    masked_history: tuple[bool, ...]  # each change of "hidden from professionals"; the last one holds
    confidential: bool
    status: str

    @property
    def masked(self) -> bool:
        return bool(self.masked_history and self.masked_history[-1])


@dataclass(frozen=True)
class SettingStep:
    """One change of a record's privacy settings, in order (the latest per setting holds)."""

    record: int
    key: str  # professional_access / emergency_access / designated_doctor / blocked_professional
    value: bool | None = None  # the two switches and the block
    person: int | None = None  # the designated doctor (None: nobody) or the blocked professional


@dataclass(frozen=True)
class Delegated:
    record: int
    delegate: int
    scopes: tuple[str, ...]
    state: str


@dataclass(frozen=True)
class Mandated:
    record: int
    agent: int
    scopes: tuple[str, ...]
    state: str
    own_structure: bool  # False: given in the other structure (the agent has since moved)


@dataclass(frozen=True)
class Held:
    """A care relationship or an emergency: a professional on a record."""

    professional: int
    record: int
    state: str  # active / expired / revoked


@dataclass(frozen=True)
class Code:
    record: int
    state: str  # active / expired / revoked
    used_by: tuple[int, ...]


@dataclass(frozen=True)
class WorldSpec:
    people: tuple[Person, ...]
    children: tuple[Child, ...]
    documents: tuple[Doc, ...] = ()
    settings: tuple[SettingStep, ...] = ()
    delegations: tuple[Delegated, ...] = ()
    mandates: tuple[Mandated, ...] = ()
    care: tuple[Held, ...] = ()
    codes: tuple[Code, ...] = ()
    emergencies: tuple[Held, ...] = ()

    @property
    def record_owners(self) -> list[int | None]:
        """Each record's owner (a person's index), records of people first, then the children's."""
        return [i for i, p in enumerate(self.people) if p.owns_record] + [None] * len(self.children)

    def of_kind(self, *kinds: str) -> list[int]:
        return [i for i, p in enumerate(self.people) if p.kind in kinds]


def _subset(values, *, min_size: int = 0):
    return st.lists(st.sampled_from(sorted(values)), min_size=min_size, max_size=len(values), unique=True).map(
        lambda chosen: tuple(sorted(chosen))
    )


mostly = st.sampled_from((True, True, True, False))  # mostly True: inactive accounts and the like stay rare
_person = st.sampled_from(("patient", "patient", "professional", "professional", "agent", "operator")).flatmap(
    lambda kind: st.builds(
        Person,
        kind=st.just(kind),
        active=mostly,
        owns_record=st.just(True) if kind == "patient" else st.booleans(),
        profession=st.sampled_from(PROFESSIONS) if kind == "professional" else st.just(""),
        structure=st.sampled_from((0, 1)),
        two_factor=mostly,
    )
)


@st.composite
def worlds(draw) -> WorldSpec:
    people = draw(st.lists(_person, min_size=2, max_size=7))
    # At least one professional and one agent make most worlds meet both kinds of door.
    if not any(p.kind == "professional" for p in people):
        people.append(Person("professional", profession=draw(st.sampled_from(PROFESSIONS)), owns_record=False))
    if not any(p.kind == "agent" for p in people) and draw(st.booleans()):
        people.append(Person("agent", owns_record=False))
    n = len(people)
    anyone = st.integers(0, n - 1)
    children = draw(
        st.lists(
            st.builds(Child, guardians=st.lists(st.tuples(anyone, st.booleans()), min_size=1, max_size=2).map(tuple)),
            max_size=2,
        )
    )
    # One active guardianship per parent and child (a database constraint).
    children = [Child(tuple({(g, ended): None for g, ended in c.guardians}.keys())) for c in children]
    children = [Child(tuple(_one_active_per_guardian(c.guardians))) for c in children]
    spec = WorldSpec(people=tuple(people), children=tuple(children))
    records = len(spec.record_owners)
    if records == 0:
        return spec
    record = st.integers(0, records - 1)
    pros = spec.of_kind("professional")
    agents = spec.of_kind("agent")
    professional = st.sampled_from(pros)
    documents = draw(
        st.lists(
            st.builds(
                Doc,
                record=record,
                category=st.sampled_from(DocumentCategory.values),
                masked_history=st.lists(st.booleans(), max_size=3).map(tuple),
                confidential=st.booleans(),
                status=st.sampled_from(DocumentStatus.values),
            ),
            max_size=8,
        )
    )
    delegations = draw(
        st.lists(
            st.builds(
                Delegated,
                record=record,
                delegate=anyone,
                scopes=_subset(Scope.values, min_size=1),
                state=st.sampled_from(STATES),
            ),
            max_size=4,
        )
    )
    mandates = (
        draw(
            st.lists(
                st.builds(
                    Mandated,
                    record=record,
                    agent=st.sampled_from(agents),
                    scopes=_subset(MandateScope.values, min_size=1),
                    state=st.sampled_from(STATES),
                    own_structure=st.just(True) | st.booleans(),
                ),
                max_size=3,
            )
        )
        if agents
        else []
    )
    held = st.builds(Held, professional=professional, record=record, state=st.sampled_from(STATES[:3]))
    care = _one_unrevoked_per_pair(draw(st.lists(held, max_size=3)))
    codes = draw(
        st.lists(
            st.builds(
                Code,
                record=record,
                state=st.sampled_from(STATES[:3]),
                used_by=st.lists(professional, max_size=2, unique=True).map(tuple),
            ),
            max_size=2,
        )
    )
    emergencies = draw(st.lists(held, max_size=2))
    # Settings are drawn last, mostly about the professionals and records the world already ties,
    # so that blocks and switched-off access meet a basis they could refuse.
    pairs = sorted(
        {(h.professional, h.record) for h in (*care, *emergencies)} | {(p, c.record) for c in codes for p in c.used_by}
    )
    tied = st.sampled_from(pairs) if pairs else st.tuples(professional, record)
    tied_record = st.sampled_from(sorted({r for _, r in pairs})) if pairs else record
    settings = draw(
        st.lists(
            st.one_of(
                st.builds(
                    SettingStep,
                    record=tied_record | record,
                    key=st.sampled_from((SettingKey.PROFESSIONAL_ACCESS, SettingKey.EMERGENCY_ACCESS)),
                    value=st.sampled_from((False, False, True)),  # turned off, sometimes back on
                ),
                tied.flatmap(
                    lambda pr: st.builds(
                        SettingStep,
                        record=st.just(pr[1]),
                        key=st.just(SettingKey.DESIGNATED_DOCTOR),
                        person=st.none() | st.just(pr[0]),
                    )
                ),
                tied.flatmap(
                    lambda pr: st.builds(
                        SettingStep,
                        record=st.just(pr[1]),
                        key=st.just(SettingKey.BLOCKED_PROFESSIONAL),
                        value=st.booleans(),
                        person=st.just(pr[0]),
                    )
                ),
            ),
            max_size=6,
        )
    )
    return WorldSpec(
        people=spec.people,
        children=spec.children,
        documents=tuple(documents),
        settings=tuple(settings),
        delegations=tuple(delegations),
        mandates=tuple(mandates),
        care=tuple(care),
        codes=tuple(codes),
        emergencies=tuple(emergencies),
    )


def _one_active_per_guardian(guardians):
    seen: set[int] = set()
    for guardian, ended in guardians:
        if not ended:
            if guardian in seen:
                continue
            seen.add(guardian)
        yield guardian, ended


def _one_unrevoked_per_pair(care: list[Held]) -> list[Held]:
    # The database allows one care relationship not revoked per professional and record.
    seen: set[tuple[int, int]] = set()
    kept = []
    for c in care:
        if c.state != "revoked":
            if (c.professional, c.record) in seen:
                continue
            seen.add((c.professional, c.record))
        kept.append(c)
    return kept


@dataclass
class World:
    spec: WorldSpec
    people: list[User]
    records: list[Record]
    documents: list[Document]
    extra: dict[str, Any] = field(default_factory=dict)


def _ends(state: str, now, *, open_ended: bool = False) -> dict[str, Any]:
    """The end of a grant in ``state``; ``open_ended``: an active one with no end date (until revoked)."""
    day = timedelta(days=1)
    fields: dict[str, Any] = {"expires_at": None if open_ended and state == "active" else now + 30 * day}
    if state == "expired":
        fields["expires_at"] = now - day
    elif state == "revoked":
        fields["revoked_at"] = now - day
    return fields


def build(spec: WorldSpec) -> World:
    """The world's rows, in about fifteen bulk inserts."""
    now = timezone.now()
    n = next(_serial)
    structures = SupportStructure.objects.bulk_create(
        [SupportStructure(name=f"Structure {n}-{i}", city="Lyon") for i in range(2)]
    )
    people = []
    for i, p in enumerate(spec.people):
        people.append(
            User(
                email=f"w{n}p{i}@example.test",
                display_name=f"{p.kind} {i}",
                password="!",
                role={"professional": Role.PROFESSIONAL, "agent": Role.SUPPORT_AGENT}.get(p.kind, Role.PATIENT),
                rpps=f"{10_000_000_000 + n * 10 + i}"[-11:] if p.kind == "professional" else "",
                profession=p.profession if p.kind == "professional" else "",
                support_structure=structures[p.structure] if p.kind == "agent" else None,
                is_staff=p.kind == "operator",
                is_active=p.active,
            )
        )
    people = User.objects.bulk_create(people)
    TOTPDevice.objects.bulk_create(
        [
            TOTPDevice(user=people[i], name="t", confirmed=True)
            for i, p in enumerate(spec.people)
            if p.two_factor and p.kind != "patient"
        ]
    )
    records = Record.objects.bulk_create(
        [
            Record(
                family_name=f"W{n}",
                given_names=f"R{r}",
                birth_date=date(1980, 1, 1) if owner is not None else date(2015, 1, 1),
                sex="F",
                owner=people[owner] if owner is not None else None,
            )
            for r, owner in enumerate(spec.record_owners)
        ]
    )
    first_child = len(records) - len(spec.children)
    Guardianship.objects.bulk_create(
        [
            Guardianship(guardian=people[g], record=records[first_child + c], ended_at=now if ended else None)
            for c, child in enumerate(spec.children)
            for g, ended in child.guardians
        ]
    )
    documents = Document.objects.bulk_create(
        [
            Document(
                record=records[d.record],
                title=f"W{n} document {i}",
                category=d.category,
                source="patient",
                status=d.status,
                content_hash=f"{n:032x}{i:032x}",
                size=100,
                masked=d.masked,
                confidential_from_parents=d.confidential,
            )
            for i, d in enumerate(spec.documents)
        ]
    )
    _settings_history(spec, people, records, documents, now)
    delegations = [
        Delegation(
            record=records[d.record],
            invited_email=people[d.delegate].email,
            delegate=people[d.delegate] if d.state != "pending" else None,
            scopes=list(d.scopes),
            created_by=people[0],
            created_at=now - timedelta(days=10, seconds=i),
            invitation_hash=f"{n:032x}{i:032x}",
            invitation_expires_at=now + timedelta(days=7),
            accepted_at=None if d.state == "pending" else now - timedelta(days=9),
            **_ends(d.state, now, open_ended=i % 2 == 1),
        )
        for i, d in enumerate(spec.delegations)
    ]
    Delegation.objects.bulk_create(delegations)
    Mandate.objects.bulk_create(
        [
            Mandate(
                number=f"{n}-{i}",
                record=records[m.record],
                agent=people[m.agent],
                structure=structures[spec.people[m.agent].structure ^ (not m.own_structure)],
                scopes=list(m.scopes),
                created_at=now - timedelta(days=10, seconds=i),
                confirmation_method="signed_paper",
                confirmed_at=None if m.state == "pending" else now - timedelta(days=9),
                **_ends(m.state, now),
            )
            for i, m in enumerate(spec.mandates)
        ]
    )
    CareRelationship.objects.bulk_create(
        [
            CareRelationship(
                professional=people[c.professional], record=records[c.record], **_ends(c.state, now, open_ended=i % 2)
            )
            for i, c in enumerate(spec.care)
        ]
    )
    codes = AccessCode.objects.bulk_create(
        [
            AccessCode(
                record=records[c.record],
                code_hash=f"{n:032x}{i:032x}",
                hint="abcd",
                created_by=people[0],
                **_ends(c.state, now),
            )
            for i, c in enumerate(spec.codes)
        ]
    )
    AccessCodeUse.objects.bulk_create(
        [AccessCodeUse(code=codes[i], professional=people[p]) for i, c in enumerate(spec.codes) for p in c.used_by]
    )
    EmergencyAccess.objects.bulk_create(
        [
            EmergencyAccess(
                professional=people[e.professional],
                record=records[e.record],
                justification="unconscious at the emergency department",
                **_ends(e.state, now),
            )
            for e in spec.emergencies
        ]
    )
    return World(spec=spec, people=people, records=records, documents=documents)


def _settings_history(spec: WorldSpec, people, records, documents, now) -> None:
    """Each setting step as a row (oldest first); each document's masking history too."""
    rows = []
    clock = itertools.count()
    for step in spec.settings:
        subject = ""
        if step.key == SettingKey.DESIGNATED_DOCTOR:
            after: Any = str(people[step.person].uuid) if step.person is not None else None
        elif step.key == SettingKey.BLOCKED_PROFESSIONAL:
            after, subject = step.value, str(people[step.person].uuid)
        else:
            after = step.value
        rows.append((records[step.record], step.key, subject, after))
    for doc, document in zip(spec.documents, documents, strict=True):
        rows.extend(
            (records[doc.record], SettingKey.MASKED_DOCUMENT, str(document.uuid), m) for m in doc.masked_history
        )
    SettingChange.objects.bulk_create(
        [
            SettingChange(
                record=record,
                key=key,
                subject=subject,
                after=after,
                changed_by=people[0],
                through_basis="owner",
                changed_at=now - timedelta(hours=1) + timedelta(seconds=next(clock)),
            )
            for record, key, subject, after in rows
        ]
    )
