"""Account help under a mandate: activation and new-password letters, the second factor reset."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from pypdf import PdfReader

from apps.access.models import AccessEvent
from apps.access.refusals import RecordUnavailable
from apps.access.sentences import entry_sentence
from apps.accounts.models import User
from apps.assistance import services
from apps.assistance.letters import services as letters
from apps.assistance.models import AccountLetter, LetterKind, Mandate, MandateScope
from apps.notifications.models import Notification, OutboxMessage
from apps.records.models import Record
from apps.records.selectors import records_for
from tests.assistance import helpers
from tests.factories import RecordFactory, UserFactory, totp_device

PASSWORD = "a quiet garden in spring"


def mandate_for(sam, record, scopes=(MandateScope.ACCOUNT_HELP,), days: int = 30) -> Mandate:
    return helpers.mandate_for(sam, record, scopes, days=days)


def letter_text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def code_in(pdf: bytes) -> str:
    found = re.search(r"\b([A-Z2-9]{5}-[A-Z2-9]{5})\b", letter_text(pdf))
    assert found, "no code on the letter"
    return found.group(1)


@pytest.fixture
def josette(db) -> Record:
    return RecordFactory(owner=None, given_names="Josette Marie", family_name="Dupuis", sex="F")


@pytest.fixture
def josette_letter(sam, josette) -> tuple[AccountLetter, str]:
    mandate_for(sam, josette)
    letter, pdf = letters.letter_print(agent=sam, record=josette)
    return letter, code_in(pdf)


@pytest.fixture
def request_for(rf):
    def make():
        request = rf.post("/activate/password/")
        request.LANGUAGE_CODE = "en"
        request.session = SessionStore()
        request._messages = FallbackStorage(request)
        return request

    return make


# --- Printing ----------------------------------------------------------------------------------


def test_activation_letter_carries_an_identifier_and_a_code_that_is_never_stored(sam, josette):
    mandate_for(sam, josette)
    letter, pdf = letters.letter_print(agent=sam, record=josette)
    text = letter_text(pdf)
    code = code_in(pdf)
    assert letter.kind == LetterKind.ACTIVATION
    assert letter.login_id == "josette.dupuis"
    assert "josette.dupuis" in text
    assert "/activate/" in text
    assert code.replace("-", "") not in letter.code_hash
    assert letter.state() == "open"


def test_printing_a_letter_is_journaled_under_the_mandate(sam, josette):
    mandate_for(sam, josette)
    letter, _pdf = letters.letter_print(agent=sam, record=josette)
    event = AccessEvent.objects.get(action="account.help", resource_uuid=letter.uuid)
    assert (event.actor_uuid, event.basis, event.outcome, event.resource_type) == (
        sam.uuid,
        "mandate",
        "allowed",
        "activation_letter",
    )


@pytest.mark.parametrize("scopes", [[MandateScope.UPLOAD_DOCUMENTS], [MandateScope.READ_DOCUMENTS]])
def test_a_mandate_without_account_help_cannot_print_a_letter(sam, josette, scopes):
    mandate_for(sam, josette, scopes)
    with pytest.raises(RecordUnavailable):
        letters.letter_print(agent=sam, record=josette)
    assert not AccountLetter.objects.exists()
    assert AccessEvent.objects.filter(
        actor_uuid=sam.uuid, action="account.help", outcome="denied", reason_code="scope_missing.account_help"
    ).exists()


@pytest.mark.parametrize("state", ["none", "expired", "revoked"])
def test_an_agent_without_an_active_mandate_cannot_print_a_letter(sam, josette, state):
    if state != "none":
        mandate = mandate_for(sam, josette)
        field = {"expired": "expires_at", "revoked": "revoked_at"}[state]
        Mandate.objects.filter(pk=mandate.pk).update(**{field: timezone.now() - timedelta(seconds=1)})
    with pytest.raises(RecordUnavailable):
        letters.letter_print(agent=sam, record=josette)
    assert not AccountLetter.objects.exists()


def test_printing_again_cancels_the_older_letter(sam, josette):
    mandate_for(sam, josette)
    first, first_pdf = letters.letter_print(agent=sam, record=josette)
    second, _pdf = letters.letter_print(agent=sam, record=josette)
    first.refresh_from_db()
    assert (first.state(), second.state()) == ("cancelled", "open")
    with pytest.raises(letters.LetterRefused):
        letters.letter_check(login_id=first.login_id, code=code_in(first_pdf))


def test_a_taken_identifier_gets_a_number(sam, josette):
    UserFactory(login_id="josette.dupuis")
    mandate_for(sam, josette)
    letter, _pdf = letters.letter_print(agent=sam, record=josette)
    assert letter.login_id == "josette.dupuis2"


def test_revoking_the_mandate_cancels_the_open_letter(sam, josette):
    mandate = mandate_for(sam, josette)
    letter, pdf = letters.letter_print(agent=sam, record=josette)
    services.mandate_revoke(actor=sam_manager(sam), mandate_uuid=mandate.uuid)
    letter.refresh_from_db()
    assert letter.state() == "cancelled"
    with pytest.raises(letters.LetterRefused):
        letters.letter_check(login_id=letter.login_id, code=code_in(pdf))


def sam_manager(sam) -> User:
    from apps.assistance.models import StructureManager

    manager = UserFactory()
    StructureManager.objects.create(user=manager, structure=sam.support_structure)
    return manager


# --- At home: the code, then the password --------------------------------------------------------


def test_activation_creates_the_account_without_email_and_gives_it_the_record(josette, josette_letter, request_for):
    letter, code = josette_letter
    checked = letters.letter_check(login_id="Josette.Dupuis ", code=code.lower())
    user = letters.letter_use(request=request_for(), letter_uuid=checked.uuid, password=PASSWORD)
    josette.refresh_from_db()
    letter.refresh_from_db()
    assert (user.login_id, user.email, user.role) == ("josette.dupuis", None, "patient")
    assert josette.owner == user
    assert letter.state() == "used"
    assert records_for(actor=user) == [josette]
    assert AccessEvent.objects.filter(actor_uuid=user.uuid, action="account.activation", outcome="allowed").exists()


def test_the_activated_person_logs_in_with_identifier_and_password(client, josette, josette_letter, request_for):
    letter, _code = josette_letter
    letters.letter_use(request=request_for(), letter_uuid=letter.uuid, password=PASSWORD)
    response = client.post("/accounts/login/", {"login": "josette.dupuis", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == "/"
    assert client.get(f"/records/{josette.uuid}/").status_code == 200


def test_an_email_given_at_activation_waits_for_its_confirmation(josette, josette_letter, request_for):
    letter, _code = josette_letter
    user = letters.letter_use(
        request=request_for(), letter_uuid=letter.uuid, password=PASSWORD, email="Josette@Example.test"
    )
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified) == ("josette@example.test", False)
    assert user.email is None  # until the link is opened; she still logs in with her identifier
    assert any("josette@example.test" in message.to for message in OutboxMessage.objects.all())


def test_wrong_codes_count_and_the_fifth_cancels_the_letter(josette, josette_letter):
    letter, code = josette_letter
    for left in range(4):
        with pytest.raises(letters.LetterRefused) as refused:
            letters.letter_check(login_id=letter.login_id, code="AAAAA-AAAAA")
        assert "do not match" in refused.value.message, left
    with pytest.raises(letters.LetterRefused) as refused:
        letters.letter_check(login_id=letter.login_id, code="AAAAA-AAAAA")
    assert "Too many wrong codes" in refused.value.message
    letter.refresh_from_db()
    assert letter.state() == "cancelled"
    with pytest.raises(letters.LetterRefused):
        letters.letter_check(login_id=letter.login_id, code=code)
    outcomes = list(
        AccessEvent.objects.filter(action="account.letter_code").order_by("seq").values_list("reason_code", flat=True)
    )
    assert outcomes == ["wrong_code"] * 4 + ["too_many_tries"]


def test_an_unknown_identifier_gets_the_same_answer_as_a_wrong_code(josette_letter):
    letter, code = josette_letter
    with pytest.raises(letters.LetterRefused) as unknown:
        letters.letter_check(login_id="nobody.here", code=code)
    with pytest.raises(letters.LetterRefused) as wrong:
        letters.letter_check(login_id=letter.login_id, code="AAAAA-AAAAA")
    assert unknown.value.message == wrong.value.message


def test_an_expired_letter_is_refused_with_its_date(josette_letter):
    letter, code = josette_letter
    AccountLetter.objects.filter(pk=letter.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(letters.LetterRefused) as refused:
        letters.letter_check(login_id=letter.login_id, code=code)
    assert "This letter worked until" in refused.value.message


def test_a_letter_works_once(josette_letter, request_for):
    letter, code = josette_letter
    letters.letter_use(request=request_for(), letter_uuid=letter.uuid, password=PASSWORD)
    with pytest.raises(letters.LetterRefused):
        letters.letter_check(login_id=letter.login_id, code=code)
    with pytest.raises(letters.LetterRefused):
        letters.letter_use(request=request_for(), letter_uuid=letter.uuid, password=PASSWORD)
    assert User.objects.filter(login_id=letter.login_id).count() == 1


@pytest.mark.parametrize(("password", "message"), [("short", "too short"), ("1234567890123", "entirely numeric")])
def test_a_weak_password_is_refused_and_nothing_is_written(josette, josette_letter, request_for, password, message):
    letter, _code = josette_letter
    with pytest.raises(letters.LetterRefused) as refused:
        letters.letter_use(request=request_for(), letter_uuid=letter.uuid, password=password)
    assert message in refused.value.message
    josette.refresh_from_db()
    letter.refresh_from_db()
    assert (josette.owner, letter.state(), User.objects.filter(login_id=letter.login_id).exists()) == (
        None,
        "open",
        False,
    )


def test_an_invalid_email_is_refused_and_nothing_is_written(josette, josette_letter, request_for):
    letter, _code = josette_letter
    with pytest.raises(letters.LetterRefused):
        letters.letter_use(request=request_for(), letter_uuid=letter.uuid, password=PASSWORD, email="not-an-address")
    josette.refresh_from_db()
    assert josette.owner is None
    assert not User.objects.filter(login_id=letter.login_id).exists()


# --- An existing account: a new password, the second factor ------------------------------------


def code_in_email(email: str) -> str:
    for message in OutboxMessage.objects.filter(to=[email]).order_by("-pk"):
        found = re.search(r"\b([A-Z0-9]{5}-[A-Z0-9]{5})\b", message.body)
        if found:
            return found.group(1)
    raise AssertionError("no code was sent to " + email)


def test_a_new_password_letter_goes_to_the_persons_email_and_tells_them(alice, alice_record, sam, request_for):
    mandate_for(sam, alice_record)
    letter, pdf = letters.letter_print(agent=sam, record=alice_record)
    assert (letter.kind, letter.channel, pdf) == (LetterKind.NEW_PASSWORD, "email", None)
    assert Notification.objects.filter(recipient=alice, event="account_letter_printed").exists()
    checked = letters.letter_check(login_id=letter.login_id, code=code_in_email(alice.email))
    user = letters.letter_use(request=request_for(), letter_uuid=checked.uuid, password=PASSWORD)
    alice.refresh_from_db()
    assert user == alice
    assert alice.check_password(PASSWORD)
    assert alice.login_id == letter.login_id  # she may now also log in with it
    assert Notification.objects.filter(recipient=alice, event="account_letter_used").exists()
    assert AccessEvent.objects.filter(actor_uuid=alice.uuid, action="account.new_password").exists()


def test_a_closed_account_gets_no_letter(alice, alice_record, sam):
    mandate_for(sam, alice_record)
    User.objects.filter(pk=alice.pk).update(is_active=False)
    alice_record.refresh_from_db()
    with pytest.raises(letters.LetterRefused):
        letters.letter_print(agent=sam, record=alice_record)
    assert not AccountLetter.objects.exists()


def test_second_factor_reset_is_completed_by_the_person_with_the_code_and_their_password(
    alice, alice_record, sam, request_for
):
    from tests.factories import PASSWORD as ALICE_PASSWORD

    totp_device(alice)
    StaticDevice.objects.create(user=alice, name="backup", confirmed=True)
    User.objects.filter(pk=alice.pk).update(otp_failures=3, otp_locked_until=timezone.now() + timedelta(minutes=9))
    mandate_for(sam, alice_record)
    letter = letters.second_factor_reset(agent=sam, record=alice_record)
    assert alice.totpdevice_set.exists()  # the agent's request alone changes nothing
    assert AccessEvent.objects.filter(
        actor_uuid=sam.uuid, action="account.help", resource_type="second_factor_letter", outcome="allowed"
    ).exists()
    checked = letters.letter_check(login_id=letter.login_id, code=code_in_email(alice.email))
    letters.letter_use(request=request_for(), letter_uuid=checked.uuid, password=ALICE_PASSWORD)
    alice.refresh_from_db()
    assert not alice.totpdevice_set.exists()
    assert not StaticDevice.objects.filter(user=alice).exists()
    assert (alice.otp_failures, alice.otp_locked_until) == (0, None)
    assert Notification.objects.filter(recipient=alice, event="second_factor_reset").exists()


def test_second_factor_reset_needs_the_account_help_scope(alice, alice_record, sam):
    totp_device(alice)
    mandate_for(sam, alice_record, [MandateScope.UPLOAD_DOCUMENTS])
    with pytest.raises(RecordUnavailable):
        letters.second_factor_reset(agent=sam, record=alice_record)
    assert alice.totpdevice_set.exists()


def test_a_professional_account_keeps_its_second_factor(dr_martin, sam):
    record = RecordFactory(owner=dr_martin)
    mandate_for(sam, record)
    with pytest.raises(letters.LetterRefused):
        letters.second_factor_reset(agent=sam, record=record)
    assert dr_martin.totpdevice_set.exists()


def test_a_person_without_email_is_told_in_the_notification_centre_only(sam, josette, josette_letter, request_for):
    letter, _code = josette_letter
    user = letters.letter_use(request=request_for(), letter_uuid=letter.uuid, password=PASSWORD)
    mandate = Mandate.objects.get(record=josette)
    services.mandate_revoke(actor=user, mandate_uuid=mandate.uuid)
    assert Notification.objects.filter(recipient=user, event="mandate_ended").exists()
    assert all(message.to and all(message.to) for message in OutboxMessage.objects.all())


def test_the_history_says_what_the_agent_did_in_plain_words(sam, josette, josette_letter, request_for):
    letter, _code = josette_letter
    user = letters.letter_use(request=request_for(), letter_uuid=letter.uuid, password=PASSWORD)
    josette.refresh_from_db()
    printed = AccessEvent.objects.get(action="account.help", resource_uuid=letter.uuid)
    opened = AccessEvent.objects.get(action="account.activation")
    assert entry_sentence(event=printed, reader=user, record=josette) == (
        "Sam Leroy, support agent, printed an activation letter for your record, under a support mandate."
    )
    assert entry_sentence(event=opened, reader=user, record=josette) == (
        "You opened the account of your record with a printed letter."
    )


def test_the_notification_centre_links_a_second_factor_reset_to_the_mandates(
    as_user, alice, alice_record, sam, request_for
):
    from tests.factories import PASSWORD as ALICE_PASSWORD

    totp_device(alice)
    mandate_for(sam, alice_record)
    letter = letters.second_factor_reset(agent=sam, record=alice_record)
    letters.letter_check(login_id=letter.login_id, code=code_in_email(alice.email))
    letters.letter_use(request=request_for(), letter_uuid=letter.uuid, password=ALICE_PASSWORD)
    client = as_user(alice, verified=False)
    client.post("/account/support-acts/", {"answer": "ok"})
    page = client.get("/notifications/").content.decode()
    assert "Your two-step verification was reset" in page
    assert f'href="/records/{alice_record.uuid}/mandates/"' in page
