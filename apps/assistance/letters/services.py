"""Account help under a mandate: printed letters (activation, new password) and a new second factor.

A person far from e-mail opens their account at home with a letter printed at the desk:
a login identifier and a one-time code. Typed back on the activation page, the code lets
them choose their password (and, if they wish, an e-mail). Only the code's hash is kept;
printing a new letter cancels the older one. Every step is journaled and the person told.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from apps.access.door import fetch, require
from apps.access.policy import Action, Basis, Resource, authorize, journal_note
from apps.access.refusals import RecordUnavailable, Refused
from apps.assistance.models import AccountLetter, LetterChannel, LetterKind, Mandate, MandateScope
from apps.assistance.services import NUMBER_ALPHABET, _clean
from apps.records.models import Record

if TYPE_CHECKING:
    from django.http import HttpRequest

    from apps.accounts.models import User

LETTER_DAYS = 30  # a letter goes home by hand; the person may wait for a relative's help
MAX_TRIES = 5
CODE_LENGTH = 10  # 50 bits from a 32-letter alphabet: five tries cannot guess it

# What the journal and the person's history call each act (resource types of Action.ACCOUNT_HELP).
# Keyed by str: a letter's kind field reads back as a plain str.
LETTER_RESOURCE: dict[str, str] = {
    LetterKind.ACTIVATION: "activation_letter",
    LetterKind.NEW_PASSWORD: "password_letter",
    LetterKind.SECOND_FACTOR: "second_factor_letter",
}
SECOND_FACTOR_RESOURCE = "second_factor"
# What the person did with a letter at home (the second factor's is completed apart).
LETTER_ACTION: dict[str, Action] = {
    LetterKind.ACTIVATION: Action.ACCOUNT_ACTIVATION,
    LetterKind.NEW_PASSWORD: Action.ACCOUNT_NEW_PASSWORD,
    LetterKind.SECOND_FACTOR: Action.ACCOUNT_SECOND_FACTOR,
}


class LetterRefused(Refused):
    pass


def _code_hash(letter_uuid: UUID, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"letter:{letter_uuid}:{code}".encode(), hashlib.sha256).hexdigest()


def _fold(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z]+", "-", ascii_text).strip("-")


def _login_id_taken(login_id: str, record: Record) -> bool:
    from apps.accounts.models import User

    if User.objects.filter(login_id__iexact=login_id).exists():
        return True
    return (
        AccountLetter.objects.filter(login_id__iexact=login_id, used_at__isnull=True, cancelled_at__isnull=True)
        .exclude(record=record)
        .exists()
    )


def _login_id_for(record: Record) -> str:
    """Readable and easy to type from paper: given name and family name, a number if taken."""
    if record.owner is not None and record.owner.login_id:
        return record.owner.login_id
    first_given = (record.given_names.split() or ["person"])[0]
    base = f"{_fold(first_given)}.{_fold(record.family_name)}".strip(".") or "person"
    candidate, n = base, 1
    while _login_id_taken(candidate, record):
        n += 1
        candidate = f"{base}{n}"
    return candidate


def _mandate_with_account_help(agent: User, record: Record) -> Mandate | None:
    active = Mandate.objects.active().filter(agent=agent, record=record, structure_id=agent.support_structure_id)
    return next((m for m in active.order_by("-created_at") if MandateScope.ACCOUNT_HELP in m.scopes), None)


def _require_account_help(agent: User, record: Record, resource: Resource) -> Mandate:
    """Only a support agent under a mandate with the account help scope, decided by the policy."""
    decision = require(actor=agent, record=record, action=Action.ACCOUNT_HELP, resource=resource)
    mandate = _mandate_with_account_help(agent, record) if decision.basis == Basis.MANDATE else None
    if mandate is None:
        # The person themself (or a parent) manages their account on their own pages.
        raise RecordUnavailable(decision)
    return mandate


def _notify(record: Record, event: str, key: str) -> None:
    from apps.notifications.services import notify_followers

    notify_followers(record=record, event=event, dedup_key=key)


def _letter_html(*, letter: AccountLetter, code: str, record: Record) -> str:
    spaced = f"{code[:5]}-{code[5:]}"
    return render_to_string(
        "assistance/letter_pdf.html",
        {
            "letter": letter,
            "record": record,
            "code": spaced,
            "activation_url": f"{settings.SITE_URL}/activate/",
            "until": formats.date_format(timezone.localtime(letter.expires_at), "DATE_FORMAT"),
        },
    )


def _channel_for(record: Record) -> tuple[str, str, str]:
    """(channel, e-mail, postal lines) for a letter to an existing account: a channel the agent does
    not control. The person's confirmed e-mail first, else the address on record."""
    from apps.assistance.models import PostalAddress
    from apps.assistance.services import verified_email

    email = verified_email(record=record)
    if email:
        return LetterChannel.EMAIL, email, ""
    address = PostalAddress.objects.filter(record=record).first()
    if address and address.lines.strip():
        return LetterChannel.POST, "", address.lines.strip()
    raise LetterRefused(
        _(
            "This person has no confirmed e-mail and no postal address on record: the letter cannot reach them "
            "safely. It cannot be handed over at the desk for an account that already exists."
        )
    )


def letter_print(*, agent: User, record: Record, kind: str = "") -> tuple[AccountLetter, bytes | None]:
    """A new letter: an activation letter printed here when the record has no account yet (the person is
    at the desk); for an existing account (a new password, or a second-factor reset) a letter sent where
    the agent cannot read it: the person's confirmed e-mail, or the post (an operator prints it).

    Returns the letter and, only for an activation at the desk, its PDF. The PDF is made before anything
    is written: if it fails, no letter exists and no older letter was cancelled.
    """
    from weasyprint import HTML

    if not record.owner_id:
        kind = LetterKind.ACTIVATION
    elif kind not in (LetterKind.NEW_PASSWORD, LetterKind.SECOND_FACTOR):
        kind = LetterKind.NEW_PASSWORD
    letter_uuid = uuid.uuid4()
    mandate = _require_account_help(agent, record, Resource(LETTER_RESOURCE[kind], letter_uuid))
    if record.owner is not None and not record.owner.is_active:
        raise LetterRefused(_("This account is closed. A letter cannot open it again."))
    if kind == LetterKind.SECOND_FACTOR and record.owner is not None and record.owner.requires_two_factor:
        raise LetterRefused(_("This account must keep two-step verification."))
    channel, email, postal_lines = (
        (LetterChannel.DESK, "", "") if kind == LetterKind.ACTIVATION else _channel_for(record)
    )
    now = timezone.now()
    letter = AccountLetter(
        uuid=letter_uuid,
        kind=kind,
        record=record,
        login_id=_login_id_for(record),
        mandate=mandate,
        agent=agent,
        created_at=now,
        expires_at=now + timedelta(days=LETTER_DAYS),
        channel=channel,
        postal_lines=postal_lines,
    )
    code = _new_code() if channel != LetterChannel.POST else ""  # a posted letter's code is made when printed
    if code:
        letter.code_hash = _code_hash(letter_uuid, code)
    pdf = HTML(string=_letter_html(letter=letter, code=code, record=record)).write_pdf() if code else None
    with transaction.atomic():
        # Lock the record's row: two agents printing at once still leave one letter in force.
        Record.objects.select_for_update().filter(pk=record.pk).first()
        AccountLetter.objects.filter(record=record, used_at__isnull=True, cancelled_at__isnull=True).update(
            cancelled_at=now
        )
        letter.save()
        if channel == LetterChannel.EMAIL:
            _letter_email(letter=letter, code=code, email=email, record=record)
        if kind == LetterKind.NEW_PASSWORD:
            _notify(record, "account_letter_printed", f"account_letter:{letter.uuid}")
    # The agent gets the PDF only for a first activation, at the desk with the person.
    return letter, pdf if channel == LetterChannel.DESK else None


def _new_code() -> str:
    return "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(CODE_LENGTH))


def _letter_email(*, letter: AccountLetter, code: str, email: str, record: Record) -> None:
    from django.core.mail import EmailMessage

    from apps.notifications.services import email_enqueue

    if letter.kind == LetterKind.SECOND_FACTOR:
        subject = _("Your code to reset your two-step verification")
        what = _("reset your two-step verification (you will need your password)")
    else:
        subject = _("Your code to choose a new password")
        what = _("choose a new password")
    body = _(
        "%(agent)s of %(structure)s asked, for you, to %(what)s. Go to %(url)s and type your login "
        "identifier %(login_id)s and this code: %(code)s. It works until %(date)s. Keep it to yourself: "
        "nobody from the service or the desk will ask you for it. If you did not ask for this, ignore this "
        "message and stop the mandate in your health space."
    ) % {
        "agent": letter.agent,
        "structure": letter.mandate.structure.name,
        "what": what,
        "url": f"{settings.SITE_URL}/activate/",
        "login_id": letter.login_id,
        "code": f"{code[:5]}-{code[5:]}",
        "date": formats.date_format(timezone.localtime(letter.expires_at), "DATE_FORMAT"),
    }
    email_enqueue(message=EmailMessage(subject=str(subject), body=body, to=[email]))


def postal_letters_print(*, out_dir) -> list[str]:
    """The operator's print run: each queued letter gets its code now, at print time, and a PDF with the
    address on record in ``out_dir``. Nobody at a desk ever sees it. Returns the files written."""
    import os
    from pathlib import Path

    from weasyprint import HTML

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    queued = AccountLetter.objects.filter(
        channel=LetterChannel.POST,
        printed_at__isnull=True,
        used_at__isnull=True,
        cancelled_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).values_list("pk", flat=True)
    for pk in list(queued):
        with transaction.atomic():
            letter = (
                AccountLetter.objects.select_for_update(of=("self",))
                .select_related("record", "mandate__structure", "agent")
                .filter(pk=pk, printed_at__isnull=True, cancelled_at__isnull=True)
                .first()
            )
            if letter is None:
                continue
            now = timezone.now()
            code = _new_code()
            letter.code_hash = _code_hash(letter.uuid, code)
            letter.printed_at = now
            letter.expires_at = now + timedelta(days=LETTER_DAYS)
            pdf = HTML(string=_letter_html(letter=letter, code=code, record=letter.record)).write_pdf()
            path = out / f"letter-{letter.uuid}.pdf"
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pdf)
            letter.save(update_fields=["code_hash", "printed_at", "expires_at"])
            journal_note(
                actor=None,
                record_uuid=letter.record.uuid,
                action=Action.ACCOUNT_LETTER_POSTED,
                allowed=True,
                reason_code="letter_posted",
                resource=Resource(LETTER_RESOURCE[letter.kind], letter.uuid),
            )
            written.append(str(path))
    return written


def record_for_account_help(*, agent: User, record_uuid: UUID | str) -> Record:
    """The record an account action names; the action itself is decided (and journaled) by the
    service. A record that does not exist is journaled as a denial."""
    return fetch(agent, Record.objects.select_related("owner"), record_uuid, Action.ACCOUNT_HELP)


def letters_for(*, record: Record) -> list[AccountLetter]:
    return list(AccountLetter.objects.filter(record=record).select_related("agent"))


def second_factor_reset(*, agent: User, record: Record) -> AccountLetter:
    """The person lost their phone. The agent only asks: a code goes to the person's confirmed e-mail or
    by post, and the person completes the reset themselves with it and their password."""
    owner = record.owner if record.owner_id else None
    if owner is None:
        _require_account_help(agent, record, Resource(SECOND_FACTOR_RESOURCE, None))
        raise LetterRefused(_("This person has no account yet: print an activation letter instead."))
    letter, _pdf = letter_print(agent=agent, record=record, kind=LetterKind.SECOND_FACTOR)
    return letter


# --- At home: the person types the letter back --------------------------------------------


def _refused_generic() -> LetterRefused:
    # Same words for an unknown identifier and a wrong code: the page tells nothing to a guesser.
    return LetterRefused(_("This identifier and this code do not match a letter in force. Check both on your letter."))


def letter_check(*, login_id: str, code: str) -> AccountLetter:
    """First step: the identifier and the code printed on the letter. Five wrong codes cancel it."""
    now = timezone.now()
    typed = _clean(code)
    with transaction.atomic():
        letter = (
            AccountLetter.objects.select_for_update(of=("self",))
            .select_related("record")
            .filter(login_id__iexact=login_id.strip(), used_at__isnull=True, cancelled_at__isnull=True)
            .first()
        )
        if letter is None:
            raise _refused_generic()
        if letter.expires_at <= now:
            raise LetterRefused(
                _("This letter worked until %(date)s. Go back to the desk: they will print a new one.")
                % {"date": formats.date_format(timezone.localtime(letter.expires_at), "DATE_FORMAT")}
            )
        right = bool(typed) and hmac.compare_digest(_code_hash(letter.uuid, typed), letter.code_hash)
        cancelled = False
        if not right:
            letter.tries += 1
            if letter.tries >= MAX_TRIES:
                letter.cancelled_at = now
                cancelled = True
            letter.save(update_fields=["tries", "cancelled_at"])
        journal_note(
            actor=None,
            record_uuid=letter.record.uuid,
            action=Action.ACCOUNT_LETTER_CODE,
            allowed=right,
            reason_code="letter_code" if right else ("too_many_tries" if cancelled else "wrong_code"),
            resource=Resource(LETTER_RESOURCE[letter.kind], letter.uuid),
        )
        if cancelled:
            _notify(letter.record, "account_letter_cancelled", f"account_letter_cancelled:{letter.uuid}")
    if cancelled:
        raise LetterRefused(
            _("Too many wrong codes: this letter no longer works. Go back to the desk: they will print a new one.")
        )
    if not right:
        raise _refused_generic()
    return letter


def letter_use(*, request: HttpRequest, letter_uuid: UUID | str, password: str, email: str = "") -> User:
    """Second step: the person chooses their password (and an e-mail if they wish).

    Activation creates the account and gives it the record; a new-password letter sets the
    password of the existing account. All or nothing. An e-mail is kept unconfirmed until
    the person opens the link sent to it (allauth's own flow).
    """
    from apps.accounts.models import Role, User

    kind = AccountLetter.objects.filter(uuid=letter_uuid).values_list("kind", flat=True).first()
    if kind == LetterKind.SECOND_FACTOR:
        return _second_factor_complete(letter_uuid=letter_uuid, password=password)
    with transaction.atomic():
        letter = (
            AccountLetter.objects.select_for_update(of=("self",))
            .select_related("record__owner")
            .filter(uuid=letter_uuid, used_at__isnull=True, cancelled_at__isnull=True)
            .first()
        )
        if letter is None or letter.expires_at <= timezone.now():
            raise _refused_generic()
        record = Record.objects.select_for_update(of=("self",)).select_related("owner").get(pk=letter.record_id)
        if letter.kind == LetterKind.ACTIVATION:
            if record.owner_id:
                raise LetterRefused(_("This record already has an account. Log in with it."))
            user = User(
                login_id=letter.login_id,
                email=None,
                display_name=record.full_name,
                role=Role.PATIENT,
                language=getattr(request, "LANGUAGE_CODE", "") or "",
            )
        else:
            owner = record.owner
            if owner is None or not owner.is_active:
                raise _refused_generic()
            user = owner
            if not user.login_id:
                user.login_id = letter.login_id
        try:
            validate_password(password, user=user)
        except ValidationError as error:
            raise LetterRefused(" ".join(error.messages)) from None
        user.set_password(password)
        try:
            user.save()
        except IntegrityError:  # the identifier was taken meanwhile by another account
            raise LetterRefused(_("This identifier is no longer free. Go back to the desk for a new letter.")) from None
        if letter.kind == LetterKind.ACTIVATION:
            Record.objects.filter(pk=record.pk, owner__isnull=True).update(owner=user)
            record.refresh_from_db()
        AccountLetter.objects.filter(pk=letter.pk).update(used_at=timezone.now(), user=user)
        if email:
            _email_add(request=request, user=user, email=email)
        # Now the owner: the policy says so, and the history reads "You opened your account...".
        authorize(
            actor=user,
            record=record,
            action=LETTER_ACTION[letter.kind],
            resource=Resource(LETTER_RESOURCE[letter.kind], letter.uuid),
        )
        if letter.kind == LetterKind.NEW_PASSWORD:
            from apps.accounts.credentials import credentials_revoke_all

            # Whatever held the old password's trust (an app, a token) ends with it.
            credentials_revoke_all(user=user, reason="letter_reset")
            _notify(record, "account_letter_used", f"account_letter_used:{letter.uuid}")
    return user


def _second_factor_complete(*, letter_uuid: UUID | str, password: str) -> User:
    """The person typed the code that reached them, and their own password: only then is the second
    factor removed. A wrong password counts as a wrong try of the letter (and is kept: no rollback)."""
    from apps.accounts.credentials import credentials_revoke_all
    from apps.accounts.two_factor import otp_unlock, two_factor_disable

    with transaction.atomic():
        letter = (
            AccountLetter.objects.select_for_update(of=("self",))
            .select_related("record__owner")
            .filter(uuid=letter_uuid, used_at__isnull=True, cancelled_at__isnull=True)
            .first()
        )
        user = letter.record.owner if letter else None
        if letter is None or letter.expires_at <= timezone.now() or user is None or not user.is_active:
            raise _refused_generic()
        if user.requires_two_factor:
            raise LetterRefused(_("This account must keep two-step verification."))
        resource = Resource(SECOND_FACTOR_RESOURCE, user.uuid)
        right = user.check_password(password)
        if not right:
            letter.tries += 1
            letter.cancelled_at = timezone.now() if letter.tries >= MAX_TRIES else None
            letter.save(update_fields=["tries", "cancelled_at"])
            journal_note(
                actor=None,
                record_uuid=letter.record.uuid,
                action=Action.ACCOUNT_SECOND_FACTOR,
                allowed=False,
                reason_code="wrong_password",
                resource=resource,
            )
        else:
            two_factor_disable(user=user)
            otp_unlock(user=user)
            credentials_revoke_all(user=user, reason="second_factor_changed")
            AccountLetter.objects.filter(pk=letter.pk).update(used_at=timezone.now(), user=user)
            authorize(actor=user, record=letter.record, action=Action.ACCOUNT_SECOND_FACTOR, resource=resource)
            _notify(
                letter.record, "second_factor_reset", f"second_factor_reset:{user.uuid}:{timezone.now().isoformat()}"
            )
    if not right:
        raise LetterRefused(_("This password is not right. Type the password you log in with."))
    return user


def _email_add(*, request: HttpRequest, user: User, email: str) -> None:
    """allauth's add-e-mail flow: unconfirmed until the link is opened; an address that belongs
    to someone else gets a mail saying so, never a different answer here."""
    from allauth.account.forms import AddEmailForm

    form = AddEmailForm(user=user, data={"email": email})
    if not form.is_valid():
        raise LetterRefused(" ".join(form.errors.get("email", [_("Enter a valid e-mail address.")])))
    form.save(request)
