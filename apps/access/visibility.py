""" "Who can see this document, and why": asked of the access policy itself, for each kind of actor.

Each kind is a stand-in actor, given the facts that would open the door for
such a person (a care relationship, an emergency...) through the policy's
per-decision memo; the real bases and the person's real restrictions decide.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from apps.access.door import document_resource
from apps.access.policy import Action, Decision, Resource, decide
from apps.access.professional.bases import privacy

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.records.models import Document, Record

_STANDIN_PK = -1

# Why, in the person's words, by the policy's reason code.
PANEL_REASONS: dict[str, Any] = {
    "owner": _("It is your record."),
    "parent": _("They manage this child's record."),
    "care_relationship": _("A professional who declares they take care of you can read it."),
    "designated_doctor": _("Your designated doctor sees all your documents, hidden ones included."),
    "break_glass": _("In an emergency, a professional can open your record; you are told at once."),
    "blocked": _("You blocked this professional."),
    "professional_access_off": _("You turned access by professionals off."),
    "masked": _("You hid this document from professionals."),
    "confidential_from_parents": _("It is part of a minor's confidential care."),
    "profession_matrix": _("This kind of document is not shown to every profession."),
    "support_without_mandate": _("Support agents never see medical content without a mandate you give."),
    "operator": _("The people who run the service never see medical content."),
    "not_allowed": _("Nobody you chose."),
    "delegation": _("You chose them as a caregiver, and let them read your documents."),
    "mandate": _("You gave them a support mandate that includes reading your documents."),
    # A caregiver or a support agent refused for lack of a scope: what the person chose, said plainly.
    "delegation_scope_missing": _("You did not let them read your documents."),
    "mandate_scope_missing": _("Their mandate does not include reading your documents."),
}


@dataclass(frozen=True)
class PanelLine:
    who: str
    allowed: bool
    why: str


def _standin(role: str, **fields: Any) -> User:
    from apps.accounts.models import User

    person = User(role=role, uuid=uuid.uuid4(), is_active=True, **fields)
    person.pk = _STANDIN_PK
    return person


def _line(who: Any, decision: Decision, *, fallback: str = "not_allowed") -> PanelLine:
    code = decision.reason_code if decision.reason_code in PANEL_REASONS else fallback
    return PanelLine(who=str(who), allowed=decision.allowed, why=str(PANEL_REASONS[code]))


def _caregiver_lines(*, record: Record, reader: User, action: str, resource: Resource) -> list[PanelLine]:
    """The real people acting for the person now (caregivers, support agents under mandate), each
    decided by the policy, so a missing scope or an ended delegation shows as it is."""
    from apps.assistance.models import Mandate
    from apps.delegations.models import Delegation

    def helper_line(who: Any, helper: User | None, scope_refusal: str) -> PanelLine:
        decision = decide(actor=helper, record=record, action=action, resource=resource)
        return _line(who, decision, fallback=scope_refusal)  # a missing scope falls back to what they chose

    lines = [
        helper_line(
            _("You (caregiver)") if d.delegate_id == reader.pk else _("%(name)s (caregiver)") % {"name": d.delegate},
            d.delegate,
            "delegation_scope_missing",
        )
        for d in Delegation.objects.active().filter(record=record).select_related("delegate")
    ]
    if not lines:
        lines.append(
            PanelLine(who=str(_("Your caregivers")), allowed=False, why=str(_("You have not chosen any caregiver.")))
        )
    lines += [
        helper_line(
            _("%(name)s, %(structure)s (support mandate)") % {"name": m.agent, "structure": m.structure.name},
            m.agent,
            "mandate_scope_missing",
        )
        for m in Mandate.objects.active().filter(record=record).select_related("agent", "structure")
    ]
    return lines


def who_can_see(*, document: Document, reader: User) -> list[PanelLine]:
    from apps.accounts.models import Profession, Role, User

    record = document.record
    resource = document_resource(document)
    action = Action.DOCUMENT_READ
    memo: dict[str, Any] = {}
    state = privacy(record, memo)
    lines: list[PanelLine] = []

    owner = reader if record.owner_id == reader.pk else record.owner  # the reader's own record: no query
    if owner is not None:
        lines.append(
            _line(
                _("You") if owner.pk == reader.pk else owner,
                decide(actor=owner, record=record, action=action, resource=resource),
            )
        )
    for guardianship in record.guardianships.active().select_related("guardian"):
        guardian = guardianship.guardian
        who = _("You (parent)") if guardian.pk == reader.pk else _("%(name)s (parent)") % {"name": guardian}
        lines.append(_line(who, decide(actor=guardian, record=record, action=action, resource=resource)))
    lines.extend(_caregiver_lines(record=record, reader=reader, action=action, resource=resource))

    doctor = User.objects.filter(uuid=state.designated_doctor).first() if state.designated_doctor else None
    if doctor is not None:
        lines.append(
            _line(
                _("Your designated doctor, %(name)s") % {"name": doctor},
                decide(actor=doctor, record=record, action=action, resource=resource),
            )
        )
    else:
        lines.append(
            PanelLine(who=str(_("Your designated doctor")), allowed=False, why=str(_("You have not designated one.")))
        )

    caring = _standin(Role.PROFESSIONAL, profession=Profession.GENERAL_PRACTITIONER)
    care_memo = {**memo, f"care:{_STANDIN_PK}": {record.pk}}
    lines.append(
        _line(
            _("A doctor caring for you"),
            decide(actor=caring, record=record, action=action, resource=resource, memo=care_memo),
        )
    )

    blocked = _standin(Role.PROFESSIONAL, profession=Profession.GENERAL_PRACTITIONER)
    blocked_memo = {
        **memo,
        f"care:{_STANDIN_PK}": {record.pk},
        f"privacy:{record.pk}": dataclasses.replace(state, blocked=state.blocked | {str(blocked.uuid)}),
    }
    lines.append(
        _line(
            _("A professional you blocked"),
            decide(actor=blocked, record=record, action=action, resource=resource, memo=blocked_memo),
        )
    )

    emergency = _standin(Role.PROFESSIONAL, profession=Profession.GENERAL_PRACTITIONER)
    emergency_memo = {**memo, f"emergency:{_STANDIN_PK}": {record.pk}}
    decision = decide(actor=emergency, record=record, action=action, resource=resource, memo=emergency_memo)
    why = None if decision.allowed or decision.reason_code == "masked" else _("You refused emergency access.")
    line = _line(_("A professional in an emergency"), decision)
    lines.append(dataclasses.replace(line, why=str(why)) if why else line)

    agent = _standin(Role.SUPPORT_AGENT)
    lines.append(
        _line(_("A support agent"), decide(actor=agent, record=record, action=action, resource=resource, memo={}))
    )
    operator = _standin(Role.PATIENT, is_staff=True)
    lines.append(
        _line(
            _("The service's operators"),
            decide(actor=operator, record=record, action=action, resource=resource, memo={}),
        )
    )
    return lines
