"""The demo population. Idempotent: running it again restores the demo as documented."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import Profession, Role, SupportStructure, User
from apps.records.models import Guardianship, InsSystem, Record
from apps.records.services import dependent_create, record_create_own

DEMO_PASSWORD = "healthspace-demo"
# Demo-only TOTP secrets, published in the README (base32 there) so anyone can
# produce codes for these accounts. Never used outside seed_demo.
DEMO_TOTP_KEYS = {
    "dr.martin@example.org": "64656d6f2d64722e6d617274696e2d746f747021",  # MRSW23ZNMRZC43LBOJ2GS3RNORXXI4BB
    "sam@example.org": "64656d6f2d73616d2d737570706f72742d747021",  # MRSW23ZNONQW2LLTOVYHA33SOQWXI4BB
    "nadia@example.org": "64656d6f2d6e616469612d6d616e616765722121",  # MRSW23ZNNZQWI2LBFVWWC3TBM5SXEIJB
}


def _user(email: str, **fields: object) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email)
    for key, value in fields.items():
        setattr(user, key, value)
    user.is_active = True
    user.set_password(DEMO_PASSWORD)
    user.full_clean(exclude=["password"])
    user.save()
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    user.otp_failures = 0
    user.otp_locked_until = None
    user.save(update_fields=["otp_failures", "otp_locked_until"])
    return user


def _totp(user: User) -> None:
    assert user.email is not None  # every demo account is made by _user(), with an e-mail
    TOTPDevice.objects.filter(user=user).exclude(key=DEMO_TOTP_KEYS[user.email]).delete()
    TOTPDevice.objects.update_or_create(
        user=user,
        key=DEMO_TOTP_KEYS[user.email],
        defaults={"name": "demo authenticator", "confirmed": True, "tolerance": 1},
    )


# Alice's documents, from the published samples in shared/corpus.
DEMO_DOCUMENTS = [
    "fr-cda/BIO-CR-BIO_2024.01_TSH_1.xml",
    "fr-cda/LDL-EES_2022.01.xml",
    "fr-cda/VAC_2023.01.xml",
    "fr-cda/IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml",
    "fr-cda/DOC_NON_STRUCTURE_CDA-R2-N1.xml",
    "fr-fhir/Bundle-bundle-example.json",
    "fr-fhir/Observation-ExampleMesFrObservationBP001.json",
    "pdf/hl7-ud-sample.pdf",
]


class Command(BaseCommand):
    help = "Create or restore the demo accounts (password: healthspace-demo). Refused when DEBUG is off unless --force."

    def _documents(self, record: Record) -> None:
        from apps.intake.importing import import_file, import_service

        corpus = Path(settings.CORPUS_DIR)
        if not corpus.is_dir():
            self.stderr.write(f"Corpus not found at {corpus}: the demo record has no documents.")
            return
        actor = import_service("seed_demo")
        for name in DEMO_DOCUMENTS:
            report = import_file(corpus / name, actor=actor, record=record)
            if report.outcome == "refused":
                self.stderr.write(f"  {name}: {report.reason}")
        # Patients of another system, moved in by the operators' import: records
        # without an account, that a professional can find and open (with trends).
        for path in sorted((corpus / "synthea-fhir-r4").glob("*.json")):
            report = import_file(path, actor=actor, create_records=True)
            if report.outcome == "refused":
                self.stderr.write(f"  {path.name}: {report.reason}")

    def _caregiver(self, alice: User, bob: User) -> None:
        """Bob acts for Alice: reads her documents and medical profile, with no end date.

        An active delegation with exactly these scopes is kept; otherwise a new one is made
        through the services (journaled, Alice is told). Stopped ones stay as history.
        """
        from apps.delegations import services as delegations
        from apps.delegations.models import Delegation, Scope

        scopes: list[str] = sorted([Scope.READ_DOCUMENTS, Scope.READ_PROFILE])
        record = alice.own_record
        active = Delegation.objects.active().filter(record=record, delegate=bob)
        if any(sorted(d.scopes) == scopes and d.expires_at is None for d in active):
            return
        for delegation in active:  # changed since: ended, the demo one takes its place
            delegations.delegation_revoke(actor=alice, delegation_uuid=delegation.uuid)
        assert bob.email is not None  # made by _user(), with an e-mail
        _delegation, token = delegations.delegation_invite(actor=alice, record=record, email=bob.email, scopes=scopes)
        delegations.delegation_accept(user=bob, token=token)

    def _support_mandate(self, sam: User) -> None:
        """Josette has no e-mail, so no account yet: Sam holds a mandate she signed on paper, with help
        for her account (Sam prints her activation letter at the desk)."""
        from apps.assistance import services as assistance
        from apps.assistance.models import ConfirmationMethod, Mandate, MandateScope, StructureManager

        # She may have opened her account since with Sam's letter: the same record, kept.
        josette, _created = Record.objects.get_or_create(
            family_name="Dupuis",
            given_names="Josette",
            birth_date=date(1948, 2, 11),
            defaults={"sex": "F"},
        )
        scopes: list[str] = sorted(
            [MandateScope.ACCOUNT_HELP, MandateScope.UPLOAD_DOCUMENTS, MandateScope.PRINT_SUMMARY]
        )
        active = Mandate.objects.active().filter(record=josette, agent=sam, structure=sam.support_structure)
        if any(sorted(m.scopes) == scopes for m in active):
            return
        # A paper mandate is countersigned by another manager of Sam's structure, who saw the signed
        # paper (Sam cannot confirm it himself): the demo names one, Nadia.
        manager = _user(
            "nadia@example.org",
            display_name="Nadia Benali",
            role=Role.SUPPORT_AGENT,
            support_structure=sam.support_structure,
        )
        _totp(manager)
        StructureManager.objects.get_or_create(user=manager, structure=sam.support_structure)
        # A revoked or ended mandate stays as history; the demo one is a new row.
        mandate = assistance.mandate_start(
            agent=sam, record=josette, scopes=scopes, days=182, method=ConfirmationMethod.SIGNED_PAPER
        )
        assistance.mandate_countersign(manager=manager, mandate_uuid=mandate.uuid)

    def _declared_weights(self, alice: User) -> None:
        """Weights Alice noted herself (declared, not from a document), so her first screen shows a trend."""
        from apps.clinical.profile import fact_declare
        from apps.clinical.selectors import facts_visible_to

        record = alice.own_record
        # Read as Alice (one journaled read of her own profile): a second seed declares nothing twice.
        declared = facts_visible_to(actor=alice, record=record).filter(code="29463-7", origin="declared")
        days = set(declared.values_list("effective_date", flat=True))
        for day, kilos in ((date(2025, 3, 2), "73.5"), (date(2025, 9, 14), "72.1"), (date(2026, 6, 1), "70.8")):
            if day not in days:
                fact_declare(
                    actor=alice,
                    record=record,
                    kind="observation",
                    display="",
                    code="29463-7",
                    effective_date=day,
                    value=kilos,
                    unit="kg",
                )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="Seed even when DEBUG is off (never in production).")

    @transaction.atomic
    def handle(self, *args, force: bool = False, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with a published password: refused when DEBUG is off. "
                "Use --force only on a demonstration server."
            )
        alice = _user("alice@example.org", display_name="Alice Martin", role=Role.PATIENT)
        if not Record.objects.filter(owner=alice).exists():
            # Alice carries the test INS of the French corpus patient, so the
            # published CI-SIS documents about that patient are hers in the demo.
            record_create_own(
                user=alice,
                family_name="Martin",
                given_names="Alice",
                birth_date=date(1979, 3, 28),
                sex="F",
                ins="279035121518989",
                ins_system=InsSystem.NIR_TEST,
            )
        child = Record.objects.filter(guardianships__guardian=alice, given_names="Léo").first()
        if child is None:
            dependent_create(
                parent=alice, family_name="Martin", given_names="Léo", birth_date=date(2016, 9, 4), sex="M"
            )
        else:
            Guardianship.objects.filter(guardian=alice, record=child).exclude(ended_at=None).delete()
            if not Guardianship.objects.active().filter(guardian=alice, record=child).exists():
                Guardianship.objects.create(guardian=alice, record=child)

        bob = _user("bob@example.org", display_name="Bob Martin", role=Role.PATIENT)
        if not Record.objects.filter(owner=bob).exists():
            record_create_own(user=bob, family_name="Martin", given_names="Bob", birth_date=date(1976, 11, 2), sex="M")

        martin = _user(
            "dr.martin@example.org",
            display_name="Dr Claire Martin",
            role=Role.PROFESSIONAL,
            rpps="10001234567",
            profession=Profession.GENERAL_PRACTITIONER,
        )
        _totp(martin)

        structure, _ = SupportStructure.objects.get_or_create(name="France Services — Démo", defaults={"city": "Lyon"})
        sam = _user("sam@example.org", display_name="Sam Leroy", role=Role.SUPPORT_AGENT, support_structure=structure)
        _totp(sam)

        self._documents(alice.own_record)
        self._declared_weights(alice)
        self._caregiver(alice, bob)
        self._support_mandate(sam)
        self.stdout.write(self.style.SUCCESS("Demo population ready (password: healthspace-demo)."))
        for email in ("alice@example.org", "bob@example.org", "dr.martin@example.org", "sam@example.org"):
            self.stdout.write(f"  {email}")
