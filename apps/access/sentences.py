"""Journal entries as plain sentences, in the reader's language.

The tables say each action, basis and refusal in words; ``entry_sentence`` puts them
together for one reader: "You" for the reader themself, "your record" for their own.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.access.models import Outcome
from apps.access.policy import REASONS, Action, Basis

if TYPE_CHECKING:
    from apps.access.models import AccessEvent
    from apps.accounts.models import User
    from apps.records.models import Record


# Each action as two verb phrases around the object ("your record", "your document “…”"):
# what was done (after "You" or a name) and what was tried (after "tried to").
ACTION_PHRASES: dict[str, tuple[Any, Any]] = {
    Action.RECORD_LIST: (
        gettext_lazy("saw %(object)s in a list of records"),
        gettext_lazy("see %(object)s in a list of records"),
    ),
    Action.RECORD_VIEW: (gettext_lazy("opened %(object)s"), gettext_lazy("open %(object)s")),
    Action.RECORD_CREATE: (gettext_lazy("created %(object)s"), gettext_lazy("create %(object)s")),
    Action.RECORD_EDIT: (
        gettext_lazy("changed the name or birth date on %(object)s"),
        gettext_lazy("change the name or birth date on %(object)s"),
    ),
    Action.DOCUMENT_LIST: (
        gettext_lazy("looked at the list of documents in %(object)s"),
        gettext_lazy("look at the list of documents in %(object)s"),
    ),
    Action.DOCUMENT_READ: (gettext_lazy("opened %(object)s"), gettext_lazy("open %(object)s")),
    Action.DOCUMENT_UPLOAD: (gettext_lazy("added %(object)s"), gettext_lazy("add %(object)s")),
    Action.DOCUMENT_EDIT: (gettext_lazy("changed %(object)s"), gettext_lazy("change %(object)s")),
    Action.DOCUMENT_DELETE: (gettext_lazy("deleted %(object)s"), gettext_lazy("delete %(object)s")),
    Action.PROFILE_READ: (
        gettext_lazy("read the medical profile in %(object)s"),
        gettext_lazy("read the medical profile in %(object)s"),
    ),
    Action.PROFILE_EDIT: (
        gettext_lazy("changed the medical profile in %(object)s"),
        gettext_lazy("change the medical profile in %(object)s"),
    ),
    Action.SETTINGS_READ: (
        gettext_lazy("looked at the privacy settings of %(object)s"),
        gettext_lazy("look at the privacy settings of %(object)s"),
    ),
    Action.SETTINGS_EDIT: (
        gettext_lazy("changed the privacy settings of %(object)s"),
        gettext_lazy("change the privacy settings of %(object)s"),
    ),
    Action.JOURNAL_READ: (
        gettext_lazy("read the access history of %(object)s"),
        gettext_lazy("read the access history of %(object)s"),
    ),
    Action.RECORD_FIND: (
        gettext_lazy("looked for %(object)s by identity"),
        gettext_lazy("look for %(object)s by identity"),
    ),
    Action.MANDATE_START: (
        gettext_lazy("started a support mandate for %(object)s"),
        gettext_lazy("start a support mandate for %(object)s"),
    ),
    Action.MANDATE_CONFIRM: (
        gettext_lazy("confirmed a support mandate for %(object)s"),
        gettext_lazy("confirm a support mandate for %(object)s"),
    ),
    Action.ACCESS_CODE_USE: (
        gettext_lazy("typed an access code for %(object)s"),
        gettext_lazy("use an access code for %(object)s"),
    ),
    Action.RECORD_INVITE: (
        gettext_lazy("managed the family invitations of %(object)s"),
        gettext_lazy("manage the family invitations of %(object)s"),
    ),
    Action.RECORD_SECOND_PARENT: (
        gettext_lazy("joined %(object)s as the second parent"),
        gettext_lazy("join %(object)s as the second parent"),
    ),
    Action.RECORD_HANDOVER: (
        gettext_lazy("received %(object)s at coming of age"),
        gettext_lazy("receive %(object)s at coming of age"),
    ),
    Action.DOCUMENT_CONFIDENTIAL: (
        gettext_lazy("changed who may see %(object)s: the parents or not"),
        gettext_lazy("change whether the parents may see %(object)s"),
    ),
    Action.MANDATE_COUNTERSIGN: (
        gettext_lazy("countersigned a paper support mandate for %(object)s"),
        gettext_lazy("countersign a paper support mandate for %(object)s"),
    ),
    Action.MANDATE_PRINT: (
        gettext_lazy("printed a support mandate for %(object)s"),
        gettext_lazy("print a support mandate for %(object)s"),
    ),
    Action.DELEGATION_MANAGE: (
        gettext_lazy("changed who may act on %(object)s"),
        gettext_lazy("change who may act on %(object)s"),
    ),
    Action.ACCOUNT_HELP: (
        gettext_lazy("helped with the account of %(object)s"),
        gettext_lazy("help with the account of %(object)s"),
    ),
    # Account help, by what was done (action:resource type).
    "account.help:activation_letter": (
        gettext_lazy("printed an activation letter for %(object)s"),
        gettext_lazy("print an activation letter for %(object)s"),
    ),
    "account.help:password_letter": (
        gettext_lazy("printed a letter to choose a new password for %(object)s"),
        gettext_lazy("print a letter to choose a new password for %(object)s"),
    ),
    "account.help:second_factor": (
        gettext_lazy("reset the two-step verification of %(object)s"),
        gettext_lazy("reset the two-step verification of %(object)s"),
    ),
    Action.ACCOUNT_LETTER_CODE: (
        gettext_lazy("typed the code of a printed letter for %(object)s"),
        gettext_lazy("use the code of a printed letter for %(object)s"),
    ),
    Action.ACCOUNT_ACTIVATION: (
        gettext_lazy("opened the account of %(object)s with a printed letter"),
        gettext_lazy("open the account of %(object)s with a printed letter"),
    ),
    "account.help:second_factor_letter": (
        gettext_lazy("asked for a letter to reset the two-step verification of %(object)s"),
        gettext_lazy("ask for a letter to reset the two-step verification of %(object)s"),
    ),
    Action.ACCOUNT_SECOND_FACTOR: (
        gettext_lazy("reset the two-step verification of %(object)s with a letter"),
        gettext_lazy("reset the two-step verification of %(object)s with a letter"),
    ),
    Action.ACCOUNT_LETTER_POSTED: (
        gettext_lazy("posted a letter with a code for %(object)s"),
        gettext_lazy("post a letter with a code for %(object)s"),
    ),
    Action.ACCOUNT_NEW_PASSWORD: (
        gettext_lazy("chose a new password with a printed letter, for %(object)s"),
        gettext_lazy("choose a new password with a printed letter, for %(object)s"),
    ),
}

BASIS_PHRASES: dict[str, Any] = {
    Basis.OWNER: gettext_lazy("as yourself"),
    Basis.PARENT: gettext_lazy("as the parent of a child"),
    Basis.DELEGATION: gettext_lazy("as a caregiver you chose"),
    Basis.CARE_RELATIONSHIP: gettext_lazy("as a professional caring for you"),
    Basis.DESIGNATED_DOCTOR: gettext_lazy("as your designated doctor"),
    Basis.ACCESS_CODE: gettext_lazy("with an access code you gave"),
    Basis.BREAK_GLASS: gettext_lazy("by declaring an emergency"),
    Basis.MANDATE: gettext_lazy("under a support mandate"),
    Basis.IMPORT: gettext_lazy("during an import"),
    Basis.STRUCTURE_MANAGER: gettext_lazy("as a manager of the support structure"),
    Basis.NONE: gettext_lazy("without any permission"),
}

# A refusal that names the person's own restriction: only the person reads this
# (the professional was told "nothing here", see policy.REASONS).
REFUSALS: dict[str, Any] = {
    "blocked": gettext_lazy("refused: you blocked this professional"),
    "masked": gettext_lazy("refused: this document is hidden from professionals"),
    "professional_access_off": gettext_lazy("refused: professional access is turned off"),
    "emergency_access_off": gettext_lazy("refused: emergency access is turned off"),
}

ROLE_LABELS: dict[str, Any] = {
    "patient": gettext_lazy("person"),
    "professional": gettext_lazy("health professional"),
    "support_agent": gettext_lazy("support agent"),
    "operator": gettext_lazy("operator"),
    "import": gettext_lazy("bulk import"),
    "anonymous": gettext_lazy("not logged in"),
}

_IMPORT_LABEL = re.compile(r"^bulk import \(operator (?P<operator>.*)\)$")


def choice_label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _who(event: AccessEvent, profession: str) -> str:
    """The subject of the sentence: a name, then what they are and for whom, between commas."""
    details: list[str] = []
    if event.actor_role == "anonymous" or (event.actor_uuid is None and not event.actor_label):
        name = _("Someone who was not logged in")
    elif event.actor_role == "import":
        match = _IMPORT_LABEL.match(event.actor_label)
        name = (
            _("The bulk import (operator %(operator)s)") % {"operator": match["operator"]}
            if match
            else event.actor_label
        )
    else:
        name = event.actor_label
    if event.actor_role == "professional" and profession:
        details.append(_lower_first(profession))
    elif event.actor_role == "support_agent":
        details.append(_("support agent"))
    elif event.actor_role == "operator":
        details.append(_("operator of the service"))
    if event.on_behalf_of_label:
        details.append(_("for %(principal)s") % {"principal": event.on_behalf_of_label})
    if not details:
        return name
    # Translators: a name followed by what the person is and for whom, e.g. "Bob Martin, for Alice Martin,".
    return _("%(name)s, %(details)s,") % {"name": name, "details": ", ".join(details)}


def _object(event: AccessEvent, record: Record, own: bool, redacted: bool = False) -> str:
    if event.resource_type == "document":
        if redacted:
            return _("a document you may not see")
        if not event.resource_label:
            return _("a document")
        if own:
            return _("your document “%(title)s”") % {"title": event.resource_label}
        return _("the document “%(title)s”") % {"title": event.resource_label}
    if event.resource_type.startswith("setting.") and event.action == "settings.edit":
        return _("%(record)s (%(setting)s)") % {
            "record": _("your record") if own else _("the record of %(name)s") % {"name": str(record)},
            "setting": _setting_label(event),
        }
    if event.resource_type not in ("", "record") and event.resource_label:
        return _("“%(label)s”") % {"label": event.resource_label}
    if own:
        return _("your record")
    return _("the record of %(name)s") % {"name": str(record)}


def _setting_label(event: AccessEvent) -> str:
    from apps.consents.models import SettingKey

    key = event.resource_type.removeprefix("setting.")
    label = str(SettingKey(key).label) if key in SettingKey.values else key
    return f"{label}: {event.resource_label}" if event.resource_label else label


def _refusal(event: AccessEvent) -> str:
    return str(REFUSALS.get(event.reason_code, _("refused")))


def entry_sentence(
    *, event: AccessEvent, reader: User, record: Record, profession: str = "", redacted: bool = False
) -> str:
    """One journal entry as a sentence in the active language, addressed to ``reader``; ``redacted``:
    the entry names a document the reader may not see, said without its title."""
    you = event.actor_uuid is not None and event.actor_uuid == reader.uuid
    own = record.owner_id is not None and record.owner_id == reader.pk
    target = _object(event, record, own, redacted)
    done, attempted = ACTION_PHRASES.get(
        f"{event.action}:{event.resource_type}", ACTION_PHRASES.get(event.action, (None, None))
    )
    if done is None:  # an action this table does not know yet still reads, with its code
        code = choice_label(Action, event.action).replace("%", "%%")
        done = _("acted on %(object)s (%(action)s)").replace("%(action)s", code)
        attempted = _("act on %(object)s (%(action)s)").replace("%(action)s", code)
    if event.outcome == Outcome.DENIED:
        what = str(attempted) % {"object": target}
        if you:
            return _("You tried to %(what)s: %(refusal)s.") % {"what": what, "refusal": _refusal(event)}
        return _("%(who)s tried to %(what)s: %(refusal)s.") % {
            "who": _who(event, profession),
            "what": what,
            "refusal": _refusal(event),
        }
    what = str(done) % {"object": target}
    # The basis adds nothing when the person acts on their own record, or for the import.
    basis = BASIS_PHRASES.get(event.basis)
    if basis is None or event.basis == Basis.OWNER or event.actor_role == "import":
        if you:
            return _("You %(what)s.") % {"what": what}
        return _("%(who)s %(what)s.") % {"who": _who(event, profession), "what": what}
    if you:
        return _("You %(what)s, %(basis)s.") % {"what": what, "basis": basis}
    return _("%(who)s %(what)s, %(basis)s.") % {"who": _who(event, profession), "what": what, "basis": basis}


def entry_reason(event: AccessEvent) -> str:
    if event.outcome != Outcome.DENIED:
        return ""
    if event.reason_code in REFUSALS:
        return str(REFUSALS[event.reason_code])
    return str(REASONS.get(event.reason_code, REASONS["not_allowed"]))
