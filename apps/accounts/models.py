"""Who logs in: people with a role. The health data subject is a Record, not a User."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PATIENT = "patient", _("Patient")
    PROFESSIONAL = "professional", _("Health professional")
    SUPPORT_AGENT = "support_agent", _("Support agent")


class Profession(models.TextChoices):
    GENERAL_PRACTITIONER = "general_practitioner", _("General practitioner")
    SPECIALIST = "specialist", _("Specialist doctor")
    NURSE = "nurse", _("Nurse")
    PHARMACIST = "pharmacist", _("Pharmacist")
    DENTIST = "dentist", _("Dentist")
    MIDWIFE = "midwife", _("Midwife")
    PHYSIOTHERAPIST = "physiotherapist", _("Physiotherapist")


class SupportStructure(models.Model):
    """A place where support agents help people (e.g. a France Services desk)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200, unique=True)
    city = models.CharField(_("city"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("support structure")
        verbose_name_plural = _("support structures")

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str | None, password: str | None = None, **fields: object) -> User:
        # Accounts opened at a support desk may have no e-mail: they sign in with a login identifier.
        if not email and not fields.get("login_id"):
            raise ValueError("An e-mail address or a login identifier is required.")
        user = self.model(email=self.normalize_email(email).lower() if email else None, **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


rpps_validator = RegexValidator(r"^\d{11}$", _("An RPPS number has exactly 11 digits."))


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in. Operators are staff users; they never read medical content."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Null, not blank, for people without e-mail: unique ignores NULLs, never "".
    email = models.EmailField(_("e-mail address"), unique=True, null=True, blank=True)
    login_id = models.CharField(
        _("login identifier"),
        max_length=60,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Printed on the activation letter of an account opened at a support desk."),
    )
    display_name = models.CharField(_("name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.PATIENT)
    rpps = models.CharField(_("RPPS number"), max_length=11, blank=True, validators=[rpps_validator])
    profession = models.CharField(_("profession"), max_length=40, choices=Profession.choices, blank=True)
    support_structure = models.ForeignKey(
        SupportStructure,
        verbose_name=_("support structure"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agents",
    )
    language = models.CharField(_("language"), max_length=8, blank=True, help_text=_("For e-mails."))
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("operator"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    otp_failures = models.PositiveIntegerField(default=0)
    otp_locked_until = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    if TYPE_CHECKING:
        # Installed on each request's user by django-otp's OTPMiddleware (and, for WebSockets,
        # by WebSocketSecondFactorMiddleware): whether this session passed the second factor.
        is_verified: Callable[[], bool]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="professional") | ~models.Q(rpps=""),
                name="professional_has_rpps",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="support_agent") | models.Q(support_structure__isnull=False),
                name="support_agent_has_structure",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email or self.login_id or ""

    @property
    def signs_in_without_email(self) -> bool:
        """Opened at a desk with a printed letter, no e-mail yet: the letter proved who they are."""
        return not self.email and bool(self.login_id)

    @property
    def is_professional(self) -> bool:
        return self.role == Role.PROFESSIONAL

    @property
    def is_support_agent(self) -> bool:
        return self.role == Role.SUPPORT_AGENT

    @property
    def requires_two_factor(self) -> bool:
        """Professionals, support agents and operators may not work without a second factor:
        an operator's password alone must never open the admin site."""
        return self.role in (Role.PROFESSIONAL, Role.SUPPORT_AGENT) or self.is_staff or self.is_superuser
