from __future__ import annotations

from datetime import date

import factory
from allauth.account.models import EmailAddress
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import Profession, Role, SupportStructure, User
from apps.records.models import Guardianship, Record

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    display_name = factory.Faker("name")
    role = Role.PATIENT
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create:
            self.save()
            if extracted is not False:
                EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class ProfessionalFactory(UserFactory):
    role = Role.PROFESSIONAL
    rpps = factory.Sequence(lambda n: f"{10000000000 + n}")
    profession = Profession.GENERAL_PRACTITIONER


class SupportStructureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportStructure

    name = factory.Sequence(lambda n: f"France Services {n}")
    city = "Lyon"


class SupportAgentFactory(UserFactory):
    role = Role.SUPPORT_AGENT
    support_structure = factory.SubFactory(SupportStructureFactory)


class OperatorFactory(UserFactory):
    role = Role.PATIENT
    is_staff = True


class RecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Record

    family_name = factory.Faker("last_name")
    given_names = factory.Faker("first_name")
    birth_date = date(1980, 1, 1)
    sex = "F"


class GuardianshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guardianship

    guardian = factory.SubFactory(UserFactory)
    record = factory.SubFactory(RecordFactory)


def totp_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="test", confirmed=True)


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.Document"

    record = factory.SubFactory(RecordFactory)
    title = factory.Sequence(lambda n: f"Document {n}")
    source = "patient"
    status = "ready"
    content_hash = factory.Sequence(lambda n: f"{n:064x}")
    size = 1000
    mime_type = "application/pdf"
    kind = "pdf"
    category = "other"
