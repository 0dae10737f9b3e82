"""Children's records: a second parent, the hand-over at majority, a minor's confidential care."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from apps.access.policy import Action, Resource, authorize, journal_note
from apps.access.refusals import RecordUnavailable, Refused
from apps.records.documents import document_confidential_set as document_confidential_set  # its callers look here
from apps.records.models import Guardianship, Record, RecordInvitation

if TYPE_CHECKING:
    from apps.accounts.models import User

MAJORITY = 18
INVITATION_DAYS = 14
# What accepting each kind of invitation is, in the journal.
# Keyed by str: the invitation's kind field reads back as a plain str.
INVITATION_ACTION: dict[str, Action] = {
    RecordInvitation.Kind.SECOND_PARENT: Action.RECORD_SECOND_PARENT,
    RecordInvitation.Kind.HANDOVER: Action.RECORD_HANDOVER,
}


class FamilyRefused(Refused):
    pass


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def coming_of_age(birth_date: date) -> date:
    try:
        return birth_date.replace(year=birth_date.year + MAJORITY)
    except ValueError:  # born on 29 February
        return birth_date.replace(year=birth_date.year + MAJORITY, day=28)


def _invite(*, actor: User, record: Record, email: str, kind: str) -> tuple[RecordInvitation, str]:
    # Only a parent invites (policy.ACTION_BASES): the owner of an adult record has no one to invite.
    decision = authorize(
        actor=actor, record=record, action=Action.RECORD_INVITE, resource=Resource("invitation", None, kind)
    )
    if not decision.allowed:
        raise RecordUnavailable(decision)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = RecordInvitation.objects.create(
            record=record,
            kind=kind,
            email=email.strip().lower(),
            token_hash=_hash(token),
            created_by=actor,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        from apps.notifications.services import email_enqueue

        link = f"{settings.SITE_URL}/records/invitations/{token}/"
        if kind == RecordInvitation.Kind.SECOND_PARENT:
            subject = _("%(name)s invites you to manage a child's health record") % {"name": actor}
        else:
            subject = _("Your health record is ready for you") % {}
        email_enqueue(
            message=EmailMessage(
                subject=subject,
                body=_("Open this link to accept (valid %(days)d days): %(link)s")
                % {"days": INVITATION_DAYS, "link": link},
                to=[invitation.email],
            )
        )
    return invitation, token


def second_parent_invite(*, actor: User, record: Record, email: str) -> tuple[RecordInvitation, str]:
    """A parent invites the other parent, who will then co-manage the child's record."""
    if record.owner_id:
        raise FamilyRefused(_("This record belongs to an adult: there is no parent to invite."))
    return _invite(actor=actor, record=record, email=email, kind=RecordInvitation.Kind.SECOND_PARENT)


def handover_invite(*, actor: User, record: Record, email: str) -> tuple[RecordInvitation, str]:
    """At majority, a parent hands the record over to the young adult."""
    if record.owner_id:
        raise FamilyRefused(_("This record already belongs to its owner."))
    adult_on = coming_of_age(record.birth_date)
    if adult_on > timezone.localdate():
        raise FamilyRefused(
            _("%(name)s comes of age on %(date)s: the record can be handed over from that day.")
            % {"name": record.given_names, "date": formats.date_format(adult_on, "DATE_FORMAT")}
        )
    return _invite(actor=actor, record=record, email=email, kind=RecordInvitation.Kind.HANDOVER)


def invitation_accept(*, user: User, token: str) -> Record:
    invitation = RecordInvitation.objects.select_related("record").filter(token_hash=_hash(token)).first()
    if invitation is None or invitation.accepted_at:
        raise FamilyRefused(_("This invitation is not valid, or it was already used."))
    if invitation.expires_at <= timezone.now():
        raise FamilyRefused(_("This invitation has expired. Ask for a new one."))
    if (user.email or "").lower() != invitation.email:
        raise FamilyRefused(
            _("This invitation was sent to another e-mail address. Log in with the account of that address.")
        )
    record = invitation.record
    with transaction.atomic():
        RecordInvitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now(), accepted_by=user)
        if invitation.kind == RecordInvitation.Kind.SECOND_PARENT:
            Guardianship.objects.get_or_create(guardian=user, record=record, ended_at=None)
        else:
            if Record.objects.filter(owner=user).exists():
                raise FamilyRefused(_("Your account already holds a record of its own."))
            Record.objects.filter(pk=record.pk, owner__isnull=True).update(owner=user)
            # The parents' access ends with the hand-over.
            Guardianship.objects.filter(record=record, ended_at__isnull=True).update(ended_at=timezone.now())
            record.refresh_from_db()
    journal_note(
        actor=user,
        record_uuid=record.uuid,
        action=INVITATION_ACTION[invitation.kind],
        allowed=True,
        reason_code=invitation.kind,
    )
    authorize(actor=user, record=record, action=Action.RECORD_VIEW)
    return record
