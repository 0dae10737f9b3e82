"""Invite, accept and revoke caregivers. Each act is journaled; the person is told."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.access.door import fetch, require
from apps.access.policy import Action, Resource
from apps.access.refusals import Refused
from apps.delegations.models import Delegation, Scope

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.records.models import Record

INVITATION_DAYS = 7


class DelegationRefused(Refused):
    pass


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _managers_emails(record: Record) -> set[str]:
    """The e-mails of those who manage the record themselves: its owner and the parents."""
    from apps.records.selectors import record_followers

    return {(user.email or "").lower() for user in record_followers(record=record)} - {""}


def delegation_invite(
    *, actor: User, record: Record, email: str, scopes: list[str], expires_at: datetime | None = None
) -> tuple[Delegation, str]:
    """The person (or a parent) invites a caregiver by e-mail. A delegate can never do this."""
    require(actor=actor, record=record, action=Action.DELEGATION_MANAGE, resource=Resource("delegation", None, email))
    scopes = sorted(set(scopes))
    if not scopes or any(scope not in Scope.values for scope in scopes):
        raise DelegationRefused(_("Choose at least one thing the caregiver may do."))
    if expires_at is not None and expires_at <= timezone.now():
        raise DelegationRefused(_("The end date must be in the future."))
    email = email.strip().lower()
    # A parent made caregiver of their own child's record would hold a second basis there.
    if (actor.email or "").lower() == email:
        raise DelegationRefused(_("You cannot invite yourself."))
    if email in _managers_emails(record):
        raise DelegationRefused(_("This person already manages the record."))
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        delegation = Delegation.objects.create(
            record=record,
            invited_email=email,
            scopes=scopes,
            created_by=actor,
            expires_at=expires_at,
            invitation_hash=_hash(token),
            invitation_expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        from apps.notifications.services import email_enqueue

        link = f"{settings.SITE_URL}/delegations/accept/{token}/"
        email_enqueue(
            message=EmailMessage(
                subject=_("%(name)s invites you to help with their health space") % {"name": actor},
                body=_(
                    "%(name)s would like you to act for them in healthspace. Open this link to see what they "
                    "allow and to accept (valid %(days)d days): %(link)s"
                )
                % {"name": actor, "days": INVITATION_DAYS, "link": link},
                to=[email],
            )
        )
        _notify(record, "delegation_created", f"delegation_created:{delegation.uuid}")
    return delegation, token


def invitation_get(*, token: str) -> Delegation | None:
    return Delegation.objects.select_related("record", "created_by").filter(invitation_hash=_hash(token)).first()


def delegation_accept(*, user: User, token: str) -> Delegation:
    """The invited person accepts, with the account of the invited e-mail, before the invitation ends."""
    delegation = invitation_get(token=token)
    if delegation is None or delegation.revoked_at:
        raise DelegationRefused(_("This invitation is not valid, or it was cancelled."))
    if delegation.accepted_at:
        if delegation.delegate_id == user.pk:
            return delegation
        raise DelegationRefused(_("This invitation was already accepted."))
    if delegation.invitation_expires_at <= timezone.now():
        raise DelegationRefused(_("This invitation has expired. Ask for a new one."))
    if (user.email or "").lower() != delegation.invited_email:
        raise DelegationRefused(
            _("This invitation was sent to another e-mail address. Log in with the account of that address.")
        )
    with transaction.atomic():
        updated = Delegation.objects.filter(pk=delegation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
            delegate=user, accepted_at=timezone.now()
        )
        if not updated:
            raise DelegationRefused(_("This invitation is not valid, or it was cancelled."))
        _notify(delegation.record, "delegation_accepted", f"delegation_accepted:{delegation.uuid}")
    delegation.refresh_from_db()
    return delegation


def delegation_revoke(*, actor: User, delegation_uuid) -> Delegation:
    """The person (or a parent) revokes; a caregiver may also step down. Effective at once."""
    delegation = fetch(actor, Delegation, delegation_uuid, Action.DELEGATION_MANAGE)
    if delegation.delegate_id != actor.pk:
        require(
            actor=actor,
            record=delegation.record,
            action=Action.DELEGATION_MANAGE,
            resource=Resource("delegation", delegation.uuid),
        )
    with transaction.atomic():
        Delegation.objects.filter(pk=delegation.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor
        )
        _notify(delegation.record, "delegation_revoked", f"delegation_revoked:{delegation.uuid}")
    delegation.refresh_from_db()
    return delegation


def delegations_for_record(*, actor: User, record: Record) -> list[Delegation]:
    require(actor=actor, record=record, action=Action.DELEGATION_MANAGE)
    return list(Delegation.objects.filter(record=record).select_related("delegate"))


def delegations_of(*, user: User) -> list[Delegation]:
    """What this person may do for others (their own view, no record content)."""
    return list(Delegation.objects.active().filter(delegate=user).select_related("record"))


def _notify(record: Record, event: str, key: str) -> None:
    from apps.notifications.services import notify_followers

    notify_followers(record=record, event=event, dedup_key=key)
