from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Role


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": _(
            "Too many failed attempts. For your safety, logging in with this e-mail or identifier "
            "is paused for 5 minutes. To get back in now, reset your password."
        ),
    }

    def save_user(self, request, user, form, commit=True):
        # Open sign-up only ever makes patients; other roles are given by an operator.
        user.role = Role.PATIENT
        user.language = getattr(request, "LANGUAGE_CODE", "") or ""
        user.display_name = " ".join(
            part for part in (form.cleaned_data.get("given_names"), form.cleaned_data.get("family_name")) if part
        )
        return super().save_user(request, user, form, commit=commit)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Mail leaves through the outbox, in the same transaction as what caused it."""
        from apps.notifications.services import email_enqueue

        message = self.render_mail(template_prefix, email, context)
        email_enqueue(message=message)

    def populate_username(self, request, user) -> None:
        # The login identifier is given only at a support desk; an open sign-up logs in by e-mail.
        return None

    def get_login_stages(self) -> list[str]:
        return [
            "apps.accounts.stages.EmailVerificationStage"
            if path == "allauth.account.stages.EmailVerificationStage"
            else path
            for path in super().get_login_stages()
        ]
