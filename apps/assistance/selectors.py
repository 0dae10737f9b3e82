"""What the agent's desk may show of a person before any mandate: names and the state of the account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from apps.records.models import Record


@dataclass(frozen=True)
class AccountState:
    has_account: bool
    active: bool = False
    email_confirmed: bool = False
    two_factor: bool = False
    locked_until: datetime | None = None
    login_id: str = ""
    has_email: bool = False


def account_state(*, record: Record) -> AccountState:
    """No e-mail address, no medical content: only what account help needs to know."""
    from allauth.account.models import EmailAddress

    from apps.accounts.two_factor import has_two_factor

    owner = record.owner if record.owner_id else None
    if owner is None:
        return AccountState(has_account=False)
    locked = owner.otp_locked_until if owner.otp_locked_until and owner.otp_locked_until > timezone.now() else None
    return AccountState(
        has_account=True,
        active=owner.is_active,
        # The same test as the one that decides how a mandate is confirmed (services.verified_email).
        email_confirmed=EmailAddress.objects.filter(user=owner, verified=True).exists(),
        two_factor=has_two_factor(owner),
        locked_until=locked,
        login_id=owner.login_id or "",
        has_email=bool(owner.email),
    )
