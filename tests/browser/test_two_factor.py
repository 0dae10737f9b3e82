"""Two-step verification: a patient turns it on; a professional must before anything else."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import field
from tests.factories import PASSWORD, ProfessionalFactory

pytestmark = pytest.mark.browser

SETUP_PATH = "/account/security/two-factor/setup/"
VERIFY_PATH = "/account/security/two-factor/verify/"


def _enrol(ui) -> pyotp.TOTP:
    """On the set-up page: read the key, type the current code, land on the backup codes."""
    page = ui.page
    expect(page).to_have_url(ui.url(SETUP_PATH))
    secret = page.locator("#totp-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    field(page, "token").fill(totp.now())
    ui.submit(page.locator("main form").get_by_role("button"))
    return totp


def _next_code(totp: pyotp.TOTP) -> str:
    """The code of the next 30-second step: never the one already used (django-otp refuses a
    code twice) and still inside django-otp's one-step tolerance, so no waiting is needed."""
    return totp.at(time.time() + totp.interval)


def test_patient_enrols_totp_and_is_shown_backup_codes(ui, alice):
    page = ui.page
    ui.log_in(alice.email, PASSWORD)
    ui.goto("/account/security/")
    ui.submit(page.locator("main").locator(f'a[href="{SETUP_PATH}"]'))
    _enrol(ui)

    codes = page.locator("main ul.codes > li")
    expect(codes).to_have_count(10)
    expect(codes.first).to_have_text(re.compile(r"^[0-9a-f]{8}$"))
    assert alice.totpdevice_set.filter(confirmed=True).count() == 1


def test_login_after_enrolment_asks_for_code_then_reaches_home(ui, alice):
    page = ui.page
    ui.log_in(alice.email, PASSWORD)
    ui.goto(SETUP_PATH)
    totp = _enrol(ui)
    ui.submit(page.locator("main a.button"))  # "I have kept them"
    expect(page).to_have_url(ui.url("/"))
    ui.log_out()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))

    ui.log_in(alice.email, PASSWORD)
    expect(page).to_have_url(re.compile(re.escape(ui.url(VERIFY_PATH)) + r"\?next=(/|%2F)$"))
    ui.goto("/")  # nothing else opens before the code
    expect(page).to_have_url(re.compile(re.escape(ui.url(VERIFY_PATH))))

    field(page, "token").fill(_next_code(totp))
    ui.submit(page.locator("main form").get_by_role("button"))
    expect(page).to_have_url(ui.url("/"))
    expect(page.locator("main .card").filter(has_text="Alice Martin")).to_have_count(1)


def test_wrong_code_at_login_is_refused_with_a_message(ui, alice):
    page = ui.page
    ui.log_in(alice.email, PASSWORD)
    ui.goto(SETUP_PATH)
    _enrol(ui)
    ui.log_out()
    ui.log_in(alice.email, PASSWORD)

    field(page, "token").fill("000000")
    ui.submit(page.locator("main form").get_by_role("button"))
    expect(page).to_have_url(re.compile(re.escape(ui.url(VERIFY_PATH))))
    expect(page.locator("#id_token_errors")).to_be_visible()


def test_professional_without_device_is_sent_to_setup_and_cannot_reach_home(ui):
    professional = ProfessionalFactory(email="dr.rossi@example.test")
    page = ui.page
    ui.log_in(professional.email, PASSWORD)
    expect(page).to_have_url(ui.url(SETUP_PATH))
    expect(page.locator("main .messages .message-warning")).to_be_visible()

    ui.goto("/")
    expect(page).to_have_url(ui.url(SETUP_PATH))
    ui.goto("/account/security/")
    expect(page).to_have_url(ui.url(SETUP_PATH))


def test_professional_reaches_home_once_enrolled(ui):
    professional = ProfessionalFactory(email="dr.rossi@example.test")
    page = ui.page
    ui.log_in(professional.email, PASSWORD)
    _enrol(ui)
    ui.goto("/")
    expect(page).to_have_url(ui.url("/"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
