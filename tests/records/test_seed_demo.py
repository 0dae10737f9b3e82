from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.oath import TOTP

from apps.accounts.models import User
from apps.records.management.commands.seed_demo import DEMO_PASSWORD
from apps.records.models import Guardianship, Record

DEMO_EMAILS = {"alice@example.org", "bob@example.org", "dr.martin@example.org", "sam@example.org"}


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    call_command("seed_demo")


def test_seed_demo_creates_the_documented_accounts(seeded):
    assert set(User.objects.values_list("email", flat=True)) >= DEMO_EMAILS
    for email in DEMO_EMAILS:
        assert User.objects.get(email=email).check_password(DEMO_PASSWORD)


def test_alice_has_her_record_and_a_child(seeded):
    alice = User.objects.get(email="alice@example.org")
    assert alice.own_record.ins == "279035121518989"
    assert Guardianship.objects.active().filter(guardian=alice).count() == 1
    assert not alice.totpdevice_set.exists()  # anyone can try the demo without an app


@pytest.mark.parametrize(
    ("email", "secret"),
    [
        ("dr.martin@example.org", "MRSW23ZNMRZC43LBOJ2GS3RNORXXI4BB"),
        ("sam@example.org", "MRSW23ZNONQW2LLTOVYHA33SOQWXI4BB"),
    ],
)
def test_readme_totp_secrets_produce_valid_codes(seeded, email, secret):
    import pyotp

    device = User.objects.get(email=email).totpdevice_set.get(confirmed=True)
    ours = TOTP(device.bin_key, device.step, device.t0, device.digits).token()
    assert pyotp.TOTP(secret).now() == f"{ours:06d}"


def test_seed_demo_is_idempotent_and_restores_the_demo(seeded):
    alice = User.objects.get(email="alice@example.org")
    Guardianship.objects.filter(guardian=alice).update(ended_at="2020-01-01T00:00:00Z")
    alice.set_password("changed-by-a-visitor")
    alice.save()
    call_command("seed_demo")
    assert Record.objects.filter(given_names="Léo").count() == 1
    assert Guardianship.objects.active().filter(guardian=alice).count() == 1
    assert User.objects.get(email="alice@example.org").check_password(DEMO_PASSWORD)
    assert User.objects.filter(email__in=DEMO_EMAILS).count() == 4


def test_seed_demo_is_refused_when_debug_is_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refused when DEBUG is off"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_seed_demo_can_be_forced_for_a_demonstration_server(db, settings):
    settings.DEBUG = False
    call_command("seed_demo", "--force")
    assert User.objects.filter(email="alice@example.org").exists()


def test_demo_josette_can_be_activated_by_sam_and_seed_demo_keeps_her_account(seeded, rf):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    from apps.assistance.letters import services as letters
    from apps.assistance.models import Mandate
    from tests.assistance.test_letters import code_in

    sam = User.objects.get(email="sam@example.org")
    josette = Record.objects.get(given_names="Josette", family_name="Dupuis")
    letter, pdf = letters.letter_print(agent=sam, record=josette)
    assert letter.login_id == "josette.dupuis"
    request = rf.post("/activate/password/")
    request.session, request.LANGUAGE_CODE = SessionStore(), "en"
    request._messages = FallbackStorage(request)
    checked = letters.letter_check(login_id=letter.login_id, code=code_in(pdf))
    user = letters.letter_use(request=request, letter_uuid=checked.uuid, password="a quiet garden in spring")
    Mandate.objects.filter(record=josette).update(revoked_at="2020-01-01T00:00:00Z")

    call_command("seed_demo")

    assert Record.objects.filter(given_names="Josette", family_name="Dupuis").count() == 1
    assert Record.objects.get(pk=josette.pk).owner == user
    assert Mandate.objects.active().filter(record=josette, agent=sam).count() == 1
