"""The access rules, stated plainly, to check the policy against (not a copy of apps/access).

Read against DESIGN.md ("Who uses it"; rules 1, 3 and 8), issue 12, and the reasons the person
reads (REASONS in apps/access/policy.py). It answers from a world's plain description (``WorldSpec``),
never from the database.

Where the code does something else than the design, the rule below says what the design says and
carries a ``DISCREPANCY`` comment; the code's behaviour is followed only while the discrepancy's name
is in ``FOLLOW_THE_CODE`` (each one is reported, and pinned by a strict xfail test in
test_policy_worlds.py that starts failing the day the code is fixed).
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.consents.models import SettingKey
from tests.property.worlds import WorldSpec

# --- The tables -------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
IMPORT = "import"  # the operators' bulk import command (apps.access.actors.ImportService)

# A professional reads; the one write is keeping a minor's document from the parents.
PROFESSIONAL_MAY = {
    "record.list",
    "record.view",
    "document.list",
    "document.read",
    "profile.read",
    "document.confidential",
}
MEDICAL_ACTIONS = {
    "document.list",
    "document.read",
    "document.upload",
    "document.edit",
    "document.delete",
    "profile.read",
    "profile.edit",
    "document.confidential",
}

ANY_CAREGIVER_SCOPE = {"read_documents", "read_profile", "upload_documents", "manage_settings", "read_history"}
# A caregiver (delegation): which scope opens each action. Nothing else: never delegating further,
# never changing the record's identity, deleting or editing documents.
CAREGIVER_SCOPES_FOR_ACTION = {
    "record.list": ANY_CAREGIVER_SCOPE,
    "record.view": ANY_CAREGIVER_SCOPE,
    # Listing the documents shows their titles: that is reading them.
    "document.list": {"read_documents"},
    "document.read": {"read_documents"},
    "document.upload": {"upload_documents"},
    "profile.read": {"read_profile"},
    "settings.read": {"manage_settings"},
    "settings.edit": {"manage_settings"},
    "journal.read": {"read_history"},
}

ANY_MANDATE_SCOPE = {"account_help", "upload_documents", "print_summary", "read_documents"}
# A support agent (mandate): which scope opens each action; no medical content unless a scope says so.
AGENT_SCOPES_FOR_ACTION = {
    "record.list": ANY_MANDATE_SCOPE,
    "record.view": ANY_MANDATE_SCOPE,
    "document.upload": {"upload_documents"},
    "document.list": {"read_documents"},
    "document.read": {"read_documents"},
    "account.help": {"account_help"},
}
# "Print the health summary" reads the profile for the summary PDF only.
AGENT_SCOPES_FOR_RESOURCE = {("profile.read", "summary_pdf"): {"print_summary"}}

# The profession matrix ("matrice d'habilitation"): which categories each profession sees.
EVERYTHING = {"prescription", "lab_result", "imaging", "report", "vaccination", "certificate", "summary", "other"}
PROFESSION_SEES = {
    "general_practitioner": EVERYTHING | {"directives"},
    "specialist": EVERYTHING | {"directives"},
    "midwife": EVERYTHING,
    "nurse": {"prescription", "lab_result", "vaccination", "summary", "report", "directives"},
    "pharmacist": {"prescription", "lab_result", "vaccination", "summary"},
    "dentist": {"prescription", "imaging", "summary", "vaccination"},
    "physiotherapist": {"prescription", "imaging", "summary"},
}

# Why each basis is used (the journal's purpose).
PURPOSE = {
    "owner": "self",
    "parent": "parental",
    "delegation": "caregiving",
    "mandate": "assistance",
    "import": "migration",
    "designated_doctor": "care",
    "care_relationship": "care",
    "access_code": "care",
    "break_glass": "emergency",
}
# When several bases open, the decision names the widest: the person's own, then those acting for
# them, then the designated doctor (sees documents hidden from other professionals), then the other
# professional bases.
WIDEST_FIRST = list(PURPOSE)

# Discrepancies whose code behaviour the statement follows for now (see the module docstring).
# (None today: the five found on the first runs are fixed, each kept as a regression example in
# test_policy_worlds.py.)
FOLLOW_THE_CODE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Asked:
    """What is asked: an action on a record, on the record as a whole or on one of its parts."""

    action: str
    resource: str = ""  # "" (the record), "document", "directives", "summary_pdf"
    document: int | None = None  # the document's index in the world


@dataclass(frozen=True)
class Expected:
    allowed: bool
    basis: str
    reason: str
    purpose: str = ""
    on_behalf_of: int | None = None  # a person's index


def _refused(reason: str) -> Expected:
    return Expected(False, "none", reason)


# --- The world's facts, in plain words ------------------------------------------------------


@dataclass(frozen=True)
class Privacy:
    professional_access: bool = True
    emergency_access: bool = True
    designated_doctor: int | None = None
    blocked: frozenset[int] = frozenset()


def privacy(spec: WorldSpec, record: int) -> Privacy:
    """Consent is data with history: the latest change of each setting holds."""
    switches = {SettingKey.PROFESSIONAL_ACCESS: True, SettingKey.EMERGENCY_ACCESS: True}
    doctor = None
    blocked: dict[int, bool] = {}
    for step in spec.settings:
        if step.record != record:
            continue
        if step.key in switches:
            switches[step.key] = bool(step.value)
        elif step.key == SettingKey.DESIGNATED_DOCTOR:
            doctor = step.person
        elif step.key == SettingKey.BLOCKED_PROFESSIONAL:
            blocked[step.person] = bool(step.value)
    return Privacy(
        professional_access=switches[SettingKey.PROFESSIONAL_ACCESS],
        emergency_access=switches[SettingKey.EMERGENCY_ACCESS],
        designated_doctor=doctor,
        blocked=frozenset(p for p, on in blocked.items() if on),
    )


def is_guardian(spec: WorldSpec, person: int, record: int) -> bool:
    first_child = len(spec.record_owners) - len(spec.children)
    if record < first_child:
        return False
    return any(g == person and not ended for g, ended in spec.children[record - first_child].guardians)


def managed_by_parents(spec: WorldSpec, record: int) -> bool:
    return any(is_guardian(spec, p, record) for p in range(len(spec.people)))


def caregiver_scopes(spec: WorldSpec, person: int, record: int) -> set[str] | None:
    """The scopes of the delegations in force from this record to this person (None: none in force)."""
    active = [d for d in spec.delegations if d.delegate == person and d.record == record and d.state == "active"]
    if not active:
        return None
    # With several in force, the caregiver holds what each gave: both show on the person's page.
    return {scope for d in active for scope in d.scopes}


def agent_scopes(spec: WorldSpec, person: int, record: int) -> set[str] | None:
    """Mandates in force for this agent, given in the structure they work in, with a second factor."""
    agent = spec.people[person]
    if agent.kind != "agent" or not agent.two_factor:
        return None
    active = [
        m for m in spec.mandates if m.agent == person and m.record == record and m.state == "active" and m.own_structure
    ]
    return {scope for m in active for scope in m.scopes} if active else None


def professional_bases(spec: WorldSpec, person: int, record: int) -> list[str]:
    """What a professional holds on a record, before the person's restrictions."""
    if spec.people[person].kind != "professional":
        return []
    held = []
    if any(c.professional == person and c.record == record and c.state == "active" for c in spec.care):
        held.append("care_relationship")
    if privacy(spec, record).designated_doctor == person:
        held.append("designated_doctor")
    if any(c.record == record and c.state == "active" and person in c.used_by for c in spec.codes):
        held.append("access_code")
    if any(e.professional == person and e.record == record and e.state == "active" for e in spec.emergencies):
        held.append("break_glass")
    return held


# --- The rules ---------------------------------------------------------------------------------


# Acts that only some bases may do, whoever else may do "everything" on the record.
ONLY_BY = {
    # Keeping a minor's document from the parents: the professionals caring for the minor.
    "document.confidential": {"care_relationship", "designated_doctor", "access_code", "break_glass"},
    # Inviting the second parent, or handing the record over at majority: a parent.
    "record.invite": {"parent"},
}


def expected(spec: WorldSpec, actor: int | str, record: int, asked: Asked) -> Expected:
    """The decision the rules give for ``actor`` (a person's index, ANONYMOUS or IMPORT)."""
    if actor == ANONYMOUS:
        return _refused("anonymous")
    if actor == IMPORT:
        # The bulk import adds documents (and creates records), nothing else; it never reads.
        if asked.action in ("document.upload", "record.create"):
            return Expected(True, "import", "import", PURPOSE["import"])
        return _refused("not_allowed")
    person = spec.people[actor]
    if not person.active:
        return _refused("inactive")

    document = spec.documents[asked.document] if asked.document is not None else None
    confidential = document is not None and document.confidential
    owner = spec.record_owners[record]
    guardian = is_guardian(spec, actor, record)
    settings = privacy(spec, record)
    # Each basis the actor holds on this record, in the order they are asked, with its verdict:
    # "grant", or the reason it says no.
    verdicts: list[tuple[str, str]] = []

    # The person themself: everything on their own record.
    if owner == actor:
        verdicts.append(("owner", "grant"))

    # A parent manages their child's record (except the child's confidential care: below).
    if guardian:
        verdicts.append(("parent", "grant"))

    # A caregiver, within the scopes given and until the end date.
    scopes = caregiver_scopes(spec, actor, record)
    if scopes is not None:
        needed = CAREGIVER_SCOPES_FOR_ACTION.get(asked.action, set())
        if needed & scopes:
            verdicts.append(("delegation", "grant"))
        elif needed:
            verdicts.append(("delegation", f"scope_missing.{min(needed)}"))  # the scope that would open it
        else:
            verdicts.append(("delegation", "not_allowed"))  # no scope to ask for

    # A support agent, within the mandate's scopes, while it is in force.
    scopes = agent_scopes(spec, actor, record)
    if scopes is not None:
        needed = AGENT_SCOPES_FOR_ACTION.get(asked.action, set()) | AGENT_SCOPES_FOR_RESOURCE.get(
            (asked.action, asked.resource), set()
        )
        if needed & scopes:
            verdicts.append(("mandate", "grant"))
        else:
            verdicts.append(("mandate", f"scope_missing.{min(needed)}" if needed else "not_allowed"))

    # Professionals: what the person's settings allow.
    for basis in professional_bases(spec, actor, record):
        if basis == "break_glass" and not settings.emergency_access:
            # Emergency access turned off: the glass does not break (said as "nothing here").
            verdicts.append((basis, "emergency_access_off"))
        else:
            verdicts.append((basis, "grant"))

    # A minor's confidential care is between the minor and the professionals: never the parents'.
    if confidential:
        verdicts = [
            (basis, "confidential_from_parents" if basis == "parent" and verdict == "grant" else verdict)
            for basis, verdict in verdicts
        ]
    # Then the person's choices about professionals.
    verdicts = [
        (basis, (_professional_restriction(spec, actor, basis, settings, asked, document) or "grant"))
        if verdict == "grant" and basis in PROFESSIONAL_BASES
        else (basis, verdict)
        for basis, verdict in verdicts
    ]

    # Acts that only some bases may do: once the restrictions let a basis in, the others say no.
    only_by = ONLY_BY.get(asked.action)
    verdicts = [
        (basis, "not_allowed" if only_by is not None and verdict == "grant" and basis not in only_by else verdict)
        for basis, verdict in verdicts
    ]
    # Nor do the parents see it whatever else they are, nor those who act for the parents on a record
    # they manage.
    if confidential and managed_by_parents(spec, record) and owner != actor:
        for i, (basis, verdict) in enumerate(verdicts):
            if verdict != "grant" or basis == "parent":
                continue
            # A parent who is also a caregiver, an agent or a professional on the child's record;
            # a caregiver or an agent acting on a record the parents manage (they chose them).
            # A professional who is not a parent: this is their care.
            if guardian or basis in ("delegation", "mandate"):
                verdicts[i] = (basis, "confidential_from_parents")

    grants = [basis for basis, verdict in verdicts if verdict == "grant"]
    if grants:
        basis = min(grants, key=WIDEST_FIRST.index)
        on_behalf_of = owner if basis in ("delegation", "mandate") else None
        return Expected(True, basis, basis, PURPOSE[basis], on_behalf_of)
    if verdicts:
        return _refused(verdicts[0][1])
    # Nobody chose them: the refusal says what kind of account asked.
    if person.kind == "operator":
        return _refused("operator")
    if person.kind == "agent":
        return _refused("support_without_mandate")
    if person.kind == "professional":
        return _refused("professional_without_basis")
    return _refused("not_allowed")


PROFESSIONAL_BASES = {"care_relationship", "designated_doctor", "access_code", "break_glass"}


def _professional_restriction(spec, actor, basis, settings: Privacy, asked: Asked, document) -> str | None:
    """Why the person's settings refuse this professional basis (None: they allow it)."""
    # A blocked professional is refused on every professional basis, emergencies included.
    # (Blocking is about professional access: a professional the person also chose as a caregiver
    # still acts as a caregiver.)
    if actor in settings.blocked:
        return "blocked"
    if asked.action not in PROFESSIONAL_MAY:
        return "professional_read_only"
    # "Access by professionals caring for you" off: care relationships and the designated doctor
    # stop; an access code (given for one consultation) and an emergency do not.
    if not settings.professional_access and basis in ("care_relationship", "designated_doctor"):
        return "professional_access_off"
    if asked.action in MEDICAL_ACTIONS:
        # Hidden documents are invisible to professionals. The designated doctor is the exception the
        # person is told about ("Your designated doctor sees all your documents, hidden ones included.",
        # apps/access/visibility.py); DESIGN.md rule 8 does not say it (reported, not a code bug).
        if document is not None and document.masked and basis != "designated_doctor":
            return "masked"
        category = (
            document.category if document is not None else ("directives" if asked.resource == "directives" else "")
        )
        if category and category not in PROFESSION_SEES.get(spec.people[actor].profession, set()):
            return "profession_matrix"
    return None
