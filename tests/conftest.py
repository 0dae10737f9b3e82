"""Shared personas: alice (patient), bob (caregiver of alice), charlie (stranger),
dr_martin (professional), sam (support agent), olga (operator)."""

from __future__ import annotations

import time
from datetime import date

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from apps.records.models import Record
from tests.factories import (
    GuardianshipFactory,
    OperatorFactory,
    ProfessionalFactory,
    RecordFactory,
    SupportAgentFactory,
    UserFactory,
    totp_device,
)


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    # Our strings are asserted in English; tests of the French default set it back.
    settings.LANGUAGE_CODE = "en"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {  # each test's signed journal checkpoints, like its rows, are its own
        **settings.STORAGES,
        "journal_checkpoints": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "journal-checkpoints"},
        },
    }
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from django.core.cache import cache

    cache.clear()
    from healthspace.celery import app

    app.conf.task_always_eager = True


@pytest.fixture
def alice(db):
    user = UserFactory(email="alice@example.test", display_name="Alice Martin")
    RecordFactory(owner=user, family_name="Martin", given_names="Alice", birth_date=date(1979, 3, 12))
    return user


@pytest.fixture
def alice_record(alice) -> Record:
    return alice.own_record


@pytest.fixture
def alice_child(alice) -> Record:
    return GuardianshipFactory(
        guardian=alice, record=RecordFactory(family_name="Martin", given_names="Léo", birth_date=date(2016, 9, 4))
    ).record


@pytest.fixture
def bob(db):
    user = UserFactory(email="bob@example.test", display_name="Bob Martin")
    RecordFactory(owner=user, family_name="Martin", given_names="Bob")
    return user


@pytest.fixture
def charlie(db):
    user = UserFactory(email="charlie@example.test", display_name="Charlie Durand")
    RecordFactory(owner=user, family_name="Durand", given_names="Charlie")
    return user


@pytest.fixture
def dr_martin(db):
    user = ProfessionalFactory(email="dr.martin@example.test", display_name="Dr Claire Martin")
    totp_device(user)
    return user


@pytest.fixture
def sam(db):
    user = SupportAgentFactory(email="sam@example.test", display_name="Sam Leroy")
    totp_device(user)
    return user


@pytest.fixture
def olga(db):
    # Operators must use a second factor to reach the admin site.
    user = OperatorFactory(email="olga@example.test", display_name="Olga Operator")
    totp_device(user)
    return user


def current_code(user) -> str:
    device = user.totpdevice_set.filter(confirmed=True).first()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def logged_in_client(user, *, verified: bool = True, reauthenticated: bool = True) -> Client:
    """A client logged in as ``user``; ``verified`` also passes the second factor when the user has one;
    ``reauthenticated``: the person just typed their password again (allauth's re-authentication),
    so sensitive acts go through; tests of the re-authentication page pass False."""
    client = Client()
    client.force_login(user)
    device = user.totpdevice_set.filter(confirmed=True).first()
    if verified and device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    if reauthenticated:
        password_confirmed(client, user)
    return client


def password_confirmed(client: Client, user, *, seconds_ago: float = 0) -> None:
    """Records in the client's session that ``user`` re-typed their password ``seconds_ago``,
    as allauth's re-authentication page does."""
    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )

    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": time.time() - seconds_ago, "reauthenticated": True}
    ]
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()


@pytest.fixture
def as_user():
    return logged_in_client


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Run what a commit hands to Celery (eager here), as a worker would right after."""

    def runner(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return runner
