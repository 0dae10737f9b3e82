"""Start, confirm and revoke support mandates. Each step is journaled; the person is told."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.access.door import fetch, get_for, require
from apps.access.policy import Action, Resource, journal_note
from apps.access.refusals import RecordUnavailable, Refused
from apps.assistance.models import (
    AccountLetter,
    ConfirmationMethod,
    EndReason,
    Mandate,
    MandateScope,
    StructureManager,
)
from apps.records.identity import record_matching
from apps.records.models import Record

if TYPE_CHECKING:
    from apps.accounts.models import User

MIN_DAYS, MAX_DAYS = 1, 365
MAX_TRIES = 5
# The person is at the desk: the code or the signed paper is typed back within the hour.
CONFIRM_WITHIN = timedelta(hours=1)
# The person on their own page, or a manager countersigning the paper, may answer within a week.
ANSWER_WITHIN = timedelta(days=7)
NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from paper


class MandateRefused(Refused):
    pass


def _code_hash(mandate_uuid: UUID, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{mandate_uuid}:{code}".encode(), hashlib.sha256).hexdigest()


def _clean(text: str) -> str:
    return "".join(text.split()).replace("-", "").upper()


def _new_number() -> str:
    while True:
        raw = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
        number = f"M-{raw[:4]}-{raw[4:]}"
        if not Mandate.objects.filter(number=number).exists():
            return number


def _is_agent(user: User) -> bool:
    from apps.accounts.two_factor import has_two_factor

    return bool(user.is_authenticated and user.is_support_agent and user.support_structure_id and has_two_factor(user))


def _unavailable(*, actor: User, record_uuid: UUID | None, action: str) -> RecordUnavailable:
    return RecordUnavailable(
        journal_note(actor=actor, record_uuid=record_uuid, action=action, allowed=False, reason_code="not_allowed")
    )


def _resource(mandate: Mandate) -> Resource:
    return Resource("mandate", mandate.uuid, mandate.number)


def record_find(
    *, agent: User, ins: str = "", family_name: str = "", given_name: str = "", birth_date=None
) -> Record | None:
    """Exact identity only, like a professional's search: a partial identity finds nothing. Journaled."""
    if not _is_agent(agent):
        raise _unavailable(actor=agent, record_uuid=None, action=Action.RECORD_FIND)
    record = record_matching(ins=ins, family_name=family_name, given_name=given_name, birth_date=birth_date)
    journal_note(
        actor=agent,
        record_uuid=record.uuid if record else None,
        action=Action.RECORD_FIND,
        allowed=record is not None,
        reason_code="found" if record else "not_found",
    )
    return record


def verified_email(*, record: Record) -> str:
    """The person's own confirmed e-mail (allauth), or "": the channel a confirmation code goes to."""
    from allauth.account.models import EmailAddress

    if record.owner is None or not record.owner.is_active:
        return ""
    address = EmailAddress.objects.filter(user_id=record.owner_id, verified=True).order_by("-primary", "pk").first()
    return address.email if address else ""


def countersigners(*, structure_id: int, agent: User) -> list[User]:
    """Who may countersign a paper mandate the agent prepared: the structure's other managers."""
    managers = StructureManager.objects.filter(structure_id=structure_id).exclude(user=agent).select_related("user")
    return [m.user for m in managers if m.user.is_active]


def mandate_start(*, agent: User, record: Record, scopes: list[str], days: int, method: str) -> Mandate:
    """The agent prepares a mandate; it works only once confirmed by someone other than the agent:
    the person (code sent to their confirmed e-mail, or their own mandates page) or, for a person
    without a confirmed e-mail, a manager of the structure countersigning the signed paper."""
    structure_id = agent.support_structure_id
    if not _is_agent(agent) or structure_id is None:  # an agent always has a structure: this only narrows
        raise _unavailable(actor=agent, record_uuid=record.uuid, action=Action.MANDATE_START)
    scopes = sorted(set(scopes))
    if not scopes or any(scope not in MandateScope.values for scope in scopes):
        raise MandateRefused(_("Choose at least one thing you may do for the person."))
    if not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise MandateRefused(_("A mandate lasts from 1 day to 12 months."))
    if method not in ConfirmationMethod.values:
        raise MandateRefused(_("Choose how the person confirms the mandate."))
    email = verified_email(record=record)
    if method == ConfirmationMethod.SIGNED_PAPER and email:
        raise MandateRefused(
            _(
                "This person has an account with a confirmed e-mail: they confirm the mandate themselves, "
                "with the code sent to their e-mail."
            )
        )
    if method == ConfirmationMethod.EMAIL_CODE and not email:
        raise MandateRefused(
            _(
                "This person has no confirmed e-mail: print the mandate for them to sign. "
                "A manager of your structure then countersigns it."
            )
        )
    if method == ConfirmationMethod.SIGNED_PAPER and not countersigners(structure_id=structure_id, agent=agent):
        raise MandateRefused(
            _(
                "A paper mandate must be countersigned by another manager of your structure, and your structure "
                "has none. It could not be confirmed: ask your structure to name a manager first."
            )
        )
    now = timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        mandate = Mandate(
            number=_new_number(),
            record=record,
            agent=agent,
            structure_id=structure_id,
            scopes=scopes,
            created_at=now,
            expires_at=now + timedelta(days=days),
            confirmation_method=method,
        )
        if method == ConfirmationMethod.EMAIL_CODE:
            mandate.code_hash = _code_hash(mandate.uuid, code)
        mandate.save()
        journal_note(
            actor=agent,
            record_uuid=record.uuid,
            action=Action.MANDATE_START,
            allowed=True,
            reason_code="mandate_started",
            resource=_resource(mandate),
        )
        if method == ConfirmationMethod.EMAIL_CODE:
            from apps.notifications.services import email_enqueue

            email_enqueue(
                message=EmailMessage(
                    subject=_("Your code to confirm a support mandate"),
                    body=_(
                        "%(agent)s of %(structure)s asks to help you with your health space. If you agree, "
                        "give them this code: %(code)s. It is valid for one hour. You can also confirm or "
                        "refuse it yourself in your health space: %(url)s. If you did not ask for help, "
                        "refuse it or ignore this message."
                    )
                    % {
                        "agent": agent,
                        "structure": agent.support_structure,
                        "code": code,
                        "url": f"{settings.SITE_URL}/records/{record.uuid}/mandates/",
                    },
                    to=[email],
                )
            )
    return mandate


def mandate_get_for_agent(agent: User, mandate_uuid: UUID | str, action: str) -> Mandate:
    mandate = Mandate.objects.select_related("record__owner", "structure", "agent").filter(uuid=mandate_uuid).first()
    if mandate is None or mandate.agent_id != agent.pk or not _is_agent(agent):
        raise _unavailable(actor=agent, record_uuid=mandate.record.uuid if mandate else None, action=action)
    return mandate


def mandate_confirm(*, agent: User, mandate_uuid: UUID | str, code: str) -> Mandate:
    """The code the person received on their confirmed e-mail, read out to the agent. Five wrong
    tries cancel it. A paper mandate is never confirmed here: its number is on the paper the agent
    printed, so typing it proves nothing (a manager countersigns it, see mandate_countersign)."""
    mandate = mandate_get_for_agent(agent, mandate_uuid, Action.MANDATE_CONFIRM)
    if mandate.confirmation_method != ConfirmationMethod.EMAIL_CODE:
        journal_note(
            actor=agent,
            record_uuid=mandate.record.uuid,
            action=Action.MANDATE_CONFIRM,
            allowed=False,
            reason_code="needs_countersignature",
            resource=_resource(mandate),
        )
        raise MandateRefused(
            _(
                "A paper mandate is confirmed by another manager of your structure, who checks the signed "
                "paper. You cannot confirm it yourself."
            )
        )
    cancelled = False
    with transaction.atomic():
        mandate = (
            Mandate.objects.select_for_update(of=("self",))
            .select_related("record__owner", "structure")
            .get(pk=mandate.pk)
        )
        now = timezone.now()
        if mandate.confirmed_at:
            return mandate
        if mandate.revoked_at or mandate.expires_at <= now:
            raise MandateRefused(_("This mandate was cancelled. Start a new one with the person."))
        if mandate.created_at + CONFIRM_WITHIN <= now:
            raise MandateRefused(_("This mandate was not confirmed in time. Start a new one with the person."))
        typed = _clean(code)
        right = bool(typed) and hmac.compare_digest(_code_hash(mandate.uuid, typed), mandate.code_hash)
        if right:
            mandate.confirmed_at = now
            mandate.confirmed_by = mandate.record.owner
            mandate.code_hash = ""
            mandate.save(update_fields=["confirmed_at", "confirmed_by", "code_hash"])
        else:
            mandate.tries += 1
            if mandate.tries >= MAX_TRIES:
                mandate.revoked_at = now
                mandate.end_reason = EndReason.TOO_MANY_TRIES
                cancelled = True
            mandate.save(update_fields=["tries", "revoked_at", "end_reason"])
        journal_note(
            actor=agent,
            record_uuid=mandate.record.uuid,
            action=Action.MANDATE_CONFIRM,
            allowed=right,
            reason_code="mandate_confirmed" if right else ("too_many_tries" if cancelled else "wrong_code"),
            resource=_resource(mandate),
        )
        if right:
            _notify(mandate.record, "mandate_confirmed", f"mandate_confirmed:{mandate.uuid}")
        elif cancelled:
            _notify(mandate.record, "mandate_ended", f"mandate_cancelled:{mandate.uuid}")
    if cancelled:
        raise MandateRefused(_("Too many wrong codes: this mandate is cancelled and the person is told."))
    if not right:
        left = MAX_TRIES - mandate.tries
        raise MandateRefused(_("This code is not right. Tries left: %(left)d.") % {"left": left})
    return mandate


def _waiting_for_answer(mandate: Mandate, now) -> None:
    if mandate.revoked_at or mandate.expires_at <= now:
        raise MandateRefused(_("This mandate was stopped or has ended. It cannot be confirmed."))
    if mandate.created_at + ANSWER_WITHIN <= now:
        raise MandateRefused(_("This mandate waited too long. The agent must start a new one with the person."))


def mandate_accept(*, actor: User, mandate_uuid: UUID | str) -> Mandate:
    """The person (or a parent) confirms a waiting mandate on their own page: their own login is the proof.
    Refusing is mandate_revoke."""
    mandate, _decision = get_for(
        actor, Mandate.objects.select_related("record__owner", "agent"), mandate_uuid, Action.DELEGATION_MANAGE
    )
    if actor.pk == mandate.agent_id:
        raise MandateRefused(_("You prepared this mandate: you cannot confirm it yourself."))
    return _confirm_waiting(mandate_pk=mandate.pk, by=actor, reason_code="mandate_confirmed_by_person")


@transaction.atomic
def _confirm_waiting(*, mandate_pk: int, by: User, reason_code: str) -> Mandate:
    """Confirm a waiting mandate under its row lock, journaled with both names; the person is told."""
    mandate = (
        Mandate.objects.select_for_update(of=("self",))
        .select_related("record", "agent", "structure")
        .get(pk=mandate_pk)
    )
    if mandate.confirmed_at:
        return mandate
    _waiting_for_answer(mandate, timezone.now())
    mandate.confirmed_at = timezone.now()
    mandate.confirmed_by = by
    mandate.code_hash = ""
    mandate.save(update_fields=["confirmed_at", "confirmed_by", "code_hash"])
    journal_note(
        actor=by,
        record_uuid=mandate.record.uuid,
        action=Action.MANDATE_CONFIRM,
        allowed=True,
        reason_code=reason_code,
        resource=_countersigned_resource(mandate),
    )
    _notify(mandate.record, "mandate_confirmed", f"mandate_confirmed:{mandate.uuid}")
    return mandate


def _countersigned_resource(mandate: Mandate) -> Resource:
    # The journal names both people: the one who confirms is the actor, the agent is in the label.
    return Resource("mandate", mandate.uuid, f"{mandate.number} · {mandate.agent}")


def mandate_countersign(*, manager: User, mandate_uuid: UUID | str) -> Mandate:
    """A manager of the structure, who is not the agent, confirms a paper mandate after seeing the paper
    the person signed. Journaled with both names; the person is told."""
    from apps.accounts.two_factor import has_two_factor

    mandate = Mandate.objects.select_related("record__owner", "agent", "structure").filter(uuid=mandate_uuid).first()
    if mandate is None:
        raise _unavailable(actor=manager, record_uuid=None, action=Action.MANDATE_COUNTERSIGN)
    # Only a manager of the mandate's structure (policy.ACTION_BASES): anyone else reads "nothing here".
    require(
        actor=manager,
        record=mandate.record,
        action=Action.MANDATE_COUNTERSIGN,
        resource=_countersigned_resource(mandate),
    )
    refusal = ""
    if manager.pk == mandate.agent_id:
        refusal = _("You prepared this mandate: another manager of your structure must countersign it.")
    elif mandate.confirmation_method != ConfirmationMethod.SIGNED_PAPER:
        refusal = _("This mandate is confirmed by the person, with the code sent to their e-mail.")
    elif verified_email(record=mandate.record):
        refusal = _("This person now has a confirmed e-mail: they confirm the mandate themselves.")
    elif not has_two_factor(manager):
        refusal = _("Set up two-step verification before you countersign a mandate.")
    if refusal:
        journal_note(
            actor=manager,
            record_uuid=mandate.record.uuid,
            action=Action.MANDATE_CONFIRM,
            allowed=False,
            reason_code="countersignature_refused",
            resource=_countersigned_resource(mandate),
        )
        raise MandateRefused(refusal)
    return _confirm_waiting(mandate_pk=mandate.pk, by=manager, reason_code="mandate_countersigned")


def mandates_to_countersign(*, manager: User) -> list[Mandate]:
    """Paper mandates of the manager's structures waiting for a countersignature, not the manager's own."""
    structures = StructureManager.objects.filter(user=manager).values("structure_id")
    since = timezone.now() - ANSWER_WITHIN
    return list(
        Mandate.objects.filter(
            structure_id__in=structures,
            confirmation_method=ConfirmationMethod.SIGNED_PAPER,
            confirmed_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            created_at__gt=since,
        )
        .exclude(agent=manager)
        .select_related("record", "agent", "structure")
    )


def mandate_pdf(*, agent: User, mandate_uuid: UUID | str) -> bytes:
    """The printable mandate the person reads and signs at the desk."""
    from weasyprint import HTML

    mandate = mandate_get_for_agent(agent, mandate_uuid, Action.MANDATE_PRINT)
    html = render_to_string("assistance/mandate_pdf.html", {"mandate": mandate, "record": mandate.record})
    return HTML(string=html).write_pdf()


def manages(*, user: User, structure_id: int) -> bool:
    return StructureManager.objects.filter(user=user, structure_id=structure_id).exists()


def mandate_revoke(*, actor: User, mandate_uuid: UUID | str) -> Mandate:
    """The person, a parent, or a manager of the mandate's structure stops it. Effective at once."""
    mandate = fetch(actor, Mandate, mandate_uuid, Action.DELEGATION_MANAGE)
    # The person, a parent, or the structure's manager (StructureManagerBasis): the policy says which.
    require(actor=actor, record=mandate.record, action=Action.DELEGATION_MANAGE, resource=_resource(mandate))
    with transaction.atomic():
        now = timezone.now()
        Mandate.objects.filter(pk=mandate.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor, end_reason=EndReason.REVOKED
        )
        # A letter printed under this mandate and not yet used stops working with it.
        AccountLetter.objects.filter(mandate=mandate, used_at__isnull=True, cancelled_at__isnull=True).update(
            cancelled_at=now
        )
        _notify(mandate.record, "mandate_ended", f"mandate_revoked:{mandate.uuid}")
    mandate.refresh_from_db()
    return mandate


def mandates_for_record(*, actor: User, record: Record) -> list[Mandate]:
    """The person (or a parent): every mandate on their record, ended ones included."""
    require(actor=actor, record=record, action=Action.DELEGATION_MANAGE)
    return list(Mandate.objects.filter(record=record).select_related("agent", "structure"))


def mandates_of_agent(*, agent: User) -> list[Mandate]:
    """The agent's own mandates: names and dates, no record content."""
    return list(Mandate.objects.filter(agent=agent).select_related("record", "structure"))


def mandates_of_structure(*, manager: User) -> list[Mandate]:
    structures = StructureManager.objects.filter(user=manager).values("structure_id")
    return list(Mandate.objects.filter(structure_id__in=structures).select_related("record", "agent", "structure"))


def _notify(record: Record, event: str, key: str) -> None:
    from apps.notifications.services import notify_followers

    notify_followers(record=record, event=event, dedup_key=key)
