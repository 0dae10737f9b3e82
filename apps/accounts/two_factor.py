"""Second factor: TOTP enrolment, backup codes, verification with lock-out.

Built on django-otp's devices; the lock-out is ours because django-otp only
slows guessing down, and a health space must stop it and say so.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp import device_classes
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import User

BACKUP_CODE_COUNT = 10


class TwoFactorLocked(Exception):
    """Too many wrong codes: entry is refused until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    secret_base32: str
    otpauth_url: str
    qr_svg: str


def has_two_factor(user: User) -> bool:
    if not user.is_authenticated:
        return False
    # Asked on every request of a person not verified with a code: one query over every kind of
    # device (django-otp's user_has_device asks each kind in turn: TOTP, then backup codes).
    first, *others = (model.objects.devices_for_user(user, confirmed=True).values("pk") for model in device_classes())
    return bool(first.union(*others, all=True)[:1]) if others else first.exists()


def second_factor_pending(user: User) -> bool:
    """Logged in with the password only, by someone who has (or must have) a second factor.

    The one rule for every way in (pages, WebSocket): such a session reaches nothing
    but the pages that take the code. ``is_verified`` is installed by django-otp's
    middleware (HTTP) or ours (WebSocket); a user object without it is not verified.
    """
    if not user.is_authenticated:
        return False
    is_verified = getattr(user, "is_verified", None)
    if callable(is_verified) and is_verified():
        return False
    return user.requires_two_factor or has_two_factor(user)


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def _enrolment(device: TOTPDevice) -> Enrolment:
    from base64 import b32encode

    return Enrolment(
        device=device,
        secret_base32=b32encode(device.bin_key).decode(),
        otpauth_url=device.config_url,
        qr_svg=_qr_svg(device.config_url),
    )


@transaction.atomic
def totp_enrolment_start(*, user: User) -> Enrolment:
    """Create (or reuse) the unconfirmed TOTP device the person is setting up."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return _enrolment(device)


@transaction.atomic
def totp_enrolment_confirm(*, user: User, token: str) -> list[str] | None:
    """Confirm enrolment with a first code; returns fresh backup codes, or None if the code is wrong."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None or not device.verify_token(_clean(token)):
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return backup_codes_regenerate(user=user)


@transaction.atomic
def backup_codes_regenerate(*, user: User) -> list[str]:
    """Replace all backup codes; each works once."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name="backup", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [secrets.token_hex(4) for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def backup_codes_remaining(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def two_factor_disable(*, user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def _clean(token: str) -> str:
    return "".join(token.split()).lower()


def otp_verify(*, user: User, token: str) -> TOTPDevice | StaticDevice | None:
    """Check a code against the person's devices, counting failures.

    Raises TwoFactorLocked while locked (no code is tried then, so guessing
    gains nothing); returns the matching device, or None for a wrong code.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        now = timezone.now()
        if user.otp_locked_until and user.otp_locked_until > now:
            raise TwoFactorLocked(user.otp_locked_until)
        token = _clean(token)
        device = None
        if token:
            for candidate in [
                *TOTPDevice.objects.filter(user=user, confirmed=True),
                *StaticDevice.objects.filter(user=user, confirmed=True),
            ]:
                if candidate.verify_token(token):
                    device = candidate
                    break
        if device is not None:
            User.objects.filter(pk=user.pk).update(otp_failures=0, otp_locked_until=None)
            return device
        failures = user.otp_failures + 1
        locked_until = None
        if failures >= settings.OTP_MAX_FAILURES:
            locked_until = now + timedelta(minutes=settings.OTP_LOCKOUT_MINUTES)
            failures = 0
        User.objects.filter(pk=user.pk).update(otp_failures=failures, otp_locked_until=locked_until)
    if locked_until is not None:
        raise TwoFactorLocked(locked_until)
    return None


def otp_unlock(*, user: User) -> None:
    """Lift a lock-out (an operator, or later a support agent under mandate)."""
    User.objects.filter(pk=user.pk).update(otp_failures=0, otp_locked_until=None)
