"""allauth's login stages, adjusted for accounts opened at a support desk."""

from __future__ import annotations

from allauth.account import stages


class EmailVerificationStage(stages.EmailVerificationStage):
    """An account opened with a printed activation letter has no e-mail to verify: the letter,
    handed over at the desk, proved who the person is. Everyone else verifies their e-mail."""

    def handle(self):
        user = self.login.user
        if user is not None and user.signs_in_without_email:
            return None, True
        return super().handle()
