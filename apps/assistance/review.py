"""What was done to a person's account under a support mandate, shown to them at their next login.

"This wasn't me" ends the mandates concerned, revokes the person's API credentials and makes them
choose a new password before anything else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.access.policy import Action, Resource, journal_note
from apps.assistance.models import AccountLetter, EndReason, LetterKind, Mandate, PasswordChangeRequired

if TYPE_CHECKING:
    from django.http import HttpRequest

    from apps.accounts.models import User

REVIEW_SESSION_KEY = "assistance_review_pending"
# Acts on an existing account. An activation letter opened the account: whoever logs in first used it.
REVIEWED_KINDS = (LetterKind.NEW_PASSWORD, LetterKind.SECOND_FACTOR)
NEW_PASSWORD_SESSION_KEY = "assistance_new_password_required"


def _unreviewed(user: User) -> QuerySet[AccountLetter]:
    """Account acts under a mandate on the person's own record that they have neither seen nor disputed."""
    return AccountLetter.objects.filter(
        record__owner=user, seen_at__isnull=True, disputed_at__isnull=True, kind__in=REVIEWED_KINDS
    )


def account_acts_to_review(*, user: User) -> list[AccountLetter]:
    return list(_unreviewed(user).select_related("agent", "mandate__structure"))


def flag_session_at_login(*, request: HttpRequest, user: User) -> None:
    """At login: remember in the session what the person must see (or do) first."""
    if PasswordChangeRequired.objects.filter(user=user).exists():
        request.session[NEW_PASSWORD_SESSION_KEY] = True
    if _unreviewed(user).exists():
        request.session[REVIEW_SESSION_KEY] = True


@transaction.atomic
def account_acts_acknowledge(*, user: User) -> int:
    """The person saw the list and says it was them."""
    return _unreviewed(user).update(seen_at=timezone.now())


def account_acts_dispute(*, user: User) -> list[Mandate]:
    """ "This wasn't me": the mandates under which the acts were done end at once (journaled), any letter
    still in force stops working, every API credential is revoked, and a new password is required."""
    from apps.accounts.credentials import credentials_revoke_all
    from apps.notifications.services import notify_followers

    now = timezone.now()
    with transaction.atomic():
        acts = list(_unreviewed(user).select_for_update(of=("self",)).select_related("record"))
        mandate_ids = {act.mandate_id for act in acts}
        mandates = list(Mandate.objects.filter(pk__in=mandate_ids).select_related("record", "agent"))
        for mandate in mandates:
            Mandate.objects.filter(pk=mandate.pk, revoked_at__isnull=True).update(
                revoked_at=now, revoked_by=user, end_reason=EndReason.DISPUTED
            )
            journal_note(
                actor=user,
                record_uuid=mandate.record.uuid,
                action=Action.DELEGATION_MANAGE,
                allowed=True,
                reason_code="disputed",
                resource=Resource("mandate", mandate.uuid, f"{mandate.number} · {mandate.agent}"),
            )
            notify_followers(record=mandate.record, event="mandate_ended", dedup_key=f"mandate_disputed:{mandate.uuid}")
        AccountLetter.objects.filter(pk__in=[act.pk for act in acts]).update(disputed_at=now, seen_at=now)
        AccountLetter.objects.filter(
            mandate_id__in=mandate_ids, used_at__isnull=True, cancelled_at__isnull=True
        ).update(cancelled_at=now)
        PasswordChangeRequired.objects.get_or_create(user=user)
        credentials_revoke_all(user=user, reason="disputed")
    return mandates


def password_change_done(*, user: User) -> None:
    """The person chose a new password: nothing more is required of them."""
    PasswordChangeRequired.objects.filter(user=user).delete()
