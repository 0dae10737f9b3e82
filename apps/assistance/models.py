"""A person lets a support agent of a structure act for them, within scopes, for 1 day to 12 months."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MandateScope(models.TextChoices):
    ACCOUNT_HELP = "account_help", _("help with the account (activation, password, second factor)")
    UPLOAD_DOCUMENTS = "upload_documents", _("add documents")
    PRINT_SUMMARY = "print_summary", _("print the health summary")
    READ_DOCUMENTS = "read_documents", _("read documents")


class ConfirmationMethod(models.TextChoices):
    EMAIL_CODE = "email_code", _("a code sent to the person's e-mail")
    SIGNED_PAPER = "signed_paper", _("a printed mandate signed by the person")


class EndReason(models.TextChoices):
    NONE = "", _("not ended")
    REVOKED = "revoked", _("stopped")
    TOO_MANY_TRIES = "too_many_tries", _("cancelled after too many wrong codes")
    DISPUTED = "disputed", _("stopped: the person said an act was not theirs")


class MandateQuerySet(models.QuerySet["Mandate"]):
    def active(self, at=None) -> MandateQuerySet:
        at = at or timezone.now()
        return self.filter(confirmed_at__isnull=False, revoked_at__isnull=True, expires_at__gt=at)


class Mandate(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(max_length=16, unique=True, help_text="Printed on the paper mandate.")
    record = models.ForeignKey("records.Record", on_delete=models.PROTECT, related_name="mandates")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mandates")
    structure = models.ForeignKey("accounts.SupportStructure", on_delete=models.PROTECT, related_name="mandates")
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    confirmation_method = models.CharField(max_length=20, choices=ConfirmationMethod.choices)
    code_hash = models.CharField(max_length=64, blank=True)
    tries = models.PositiveSmallIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Who confirmed: the person (their e-mail code or their own page) or, for paper, the structure's
    # manager who countersigned after seeing the signed paper. Never the agent.
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True, default="")

    objects = MandateQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("support mandate")
        verbose_name_plural = _("support mandates")

    def __str__(self) -> str:
        return f"{self.number} ({self.agent_id} for {self.record_id})"

    def scope_labels(self) -> list[str]:
        return [str(MandateScope(s).label) for s in self.scopes if s in MandateScope.values]

    def state(self, now=None) -> str:
        """waiting / active / ended / revoked / cancelled: what the person and the agent read."""
        now = now or timezone.now()
        if self.revoked_at:
            return "cancelled" if self.end_reason == EndReason.TOO_MANY_TRIES else "revoked"
        if self.expires_at <= now:
            return "ended"
        return "active" if self.confirmed_at else "waiting"


class StructureManager(models.Model):
    """Who manages a support structure: sees and may stop all of its mandates."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="managed_structures")
    structure = models.ForeignKey("accounts.SupportStructure", on_delete=models.CASCADE, related_name="managers")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "structure"], name="structure_manager_unique")]
        verbose_name = _("structure manager")
        verbose_name_plural = _("structure managers")

    def __str__(self) -> str:
        return f"{self.user_id} manages {self.structure_id}"


class LetterKind(models.TextChoices):
    ACTIVATION = "activation", _("activation of a new account")
    NEW_PASSWORD = "new_password", _("a new password")
    SECOND_FACTOR = "second_factor", _("a reset of two-step verification")


class LetterChannel(models.TextChoices):
    # Handed over at the desk: only for a first activation, the person present.
    DESK = "desk", _("handed over at the desk")
    # An existing account: a channel the agent does not control.
    EMAIL = "email", _("sent to the person's confirmed e-mail")
    POST = "post", _("sent by post to the address on record")


class PostalAddress(models.Model):
    """The address on record, where letters for an existing account are posted. It is never typed
    by the agent who asks for a letter: a letter sent where the agent says would reach the agent."""

    record = models.OneToOneField("records.Record", on_delete=models.CASCADE, related_name="postal_address")
    lines = models.TextField(help_text="The address as printed on the envelope, one line each.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("postal address")
        verbose_name_plural = _("postal addresses")

    def __str__(self) -> str:
        return f"address of {self.record_id}"


class AccountLetter(models.Model):
    """A printed letter with a one-time code: the person opens their account (or chooses a new
    password) at home, with no e-mail needed. Only the code's hash is kept; printing again
    gives a new code and the older letter stops working."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=LetterKind.choices)
    record = models.ForeignKey("records.Record", on_delete=models.CASCADE, related_name="account_letters")
    login_id = models.CharField(max_length=60, help_text="The identifier printed on the letter.")
    code_hash = models.CharField(max_length=64, blank=True)
    mandate = models.ForeignKey(Mandate, on_delete=models.PROTECT, related_name="account_letters")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=LetterChannel.choices, default=LetterChannel.DESK)
    # A posted letter: its code exists only from the moment an operator prints it (never before,
    # so nobody at the desk can read it); the address is copied from the record when it is asked.
    postal_lines = models.TextField(blank=True)
    printed_at = models.DateTimeField(null=True, blank=True)
    # The person saw this act at their next login ("it was me") or disputed it ("this wasn't me").
    seen_at = models.DateTimeField(null=True, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("account letter")
        verbose_name_plural = _("account letters")
        constraints = [
            # One letter in force per record: a new one replaces (cancels) the older.
            models.UniqueConstraint(
                fields=["record"],
                condition=models.Q(used_at__isnull=True, cancelled_at__isnull=True),
                name="account_letter_one_open_per_record",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.login_id}"

    def state(self, now=None) -> str:
        """queued (waiting for the post) / open / used / cancelled / expired."""
        now = now or timezone.now()
        if self.used_at:
            return "used"
        if self.cancelled_at:
            return "cancelled"
        if self.expires_at <= now:
            return "expired"
        if self.channel == LetterChannel.POST and not self.printed_at:
            return "queued"
        return "open"


class PasswordChangeRequired(models.Model):
    """The person said "this wasn't me": they choose a new password before anything else."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("password change required")
        verbose_name_plural = _("password changes required")

    def __str__(self) -> str:
        return f"{self.user_id} must choose a new password"
