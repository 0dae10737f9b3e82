"""Whatever vouched for a person's tokens changed: end every signed-in app.

Hooked on the models rather than on each view, so that every path is covered: allauth's
password change, set and reset, a letter, the admin, ``manage.py changepassword``,
turning the second factor on, replacing it or removing it (also by a support agent).
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.credentials import credentials_revoke_all
from apps.accounts.models import User


@receiver(post_save, sender=User, dispatch_uid="oauth_revoke_on_password_change")
def _revoke_on_password_change(sender, instance: User, created: bool, update_fields=None, **kwargs) -> None:
    # ``_password`` holds the new raw password between set_password() and save(); Django's
    # silent re-hashing at login (a stronger hasher) clears it first, so it does not count.
    if created or getattr(instance, "_password", None) is None:
        return
    credentials_revoke_all(user=instance, reason="password_changed")


@receiver(post_save, sender=TOTPDevice, dispatch_uid="oauth_revoke_on_totp_confirmed")
def _revoke_on_second_factor_added(sender, instance: TOTPDevice, created: bool, update_fields=None, **kwargs) -> None:
    # A TOTP device is saved at every code check (its counters): only a confirmation counts.
    confirmed_now = (created and instance.confirmed) or (
        update_fields is not None and "confirmed" in update_fields and instance.confirmed
    )
    if confirmed_now:
        credentials_revoke_all(user=instance.user, reason="second_factor_changed")


@receiver(post_delete, sender=TOTPDevice, dispatch_uid="oauth_revoke_on_totp_removed")
@receiver(post_delete, sender=StaticDevice, dispatch_uid="oauth_revoke_on_static_removed")
def _revoke_on_second_factor_removed(sender, instance, **kwargs) -> None:
    if instance.confirmed:
        credentials_revoke_all(user=instance.user, reason="second_factor_changed")
