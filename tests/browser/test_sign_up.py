"""Sign-up, e-mail confirmation from the outbox, first login."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import confirmation_path, field

pytestmark = pytest.mark.browser

EMAIL = "nina.petit@example.test"
PASSWORD = "Une-phrase-de-passe-solide-42"


def test_sign_up_confirm_email_then_log_in_lists_own_record(ui):
    page = ui.page
    ui.goto("/accounts/signup/")
    page.get_by_label("Courriel").fill(EMAIL)
    page.get_by_label(re.compile(r"^Mot de passe\s*:?$")).fill(PASSWORD)
    page.get_by_label(re.compile(r"^Mot de passe \(confirmation\)")).fill(PASSWORD)
    field(page, "given_names").fill("Nina")
    field(page, "family_name").fill("Petit")
    field(page, "birth_date").fill("1990-05-17")
    field(page, "sex").select_option("F")
    ui.submit(page.locator("main").get_by_role("button", name="Création de compte"))
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))

    ui.goto(confirmation_path(EMAIL))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer l'adresse e-mail")
    ui.submit(page.locator("main").get_by_role("button", name="Confirmer"))
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))

    ui.log_in(EMAIL, PASSWORD)
    expect(page).to_have_url(ui.url("/"))
    card = page.locator("main .card").filter(has_text="Nina Petit")
    expect(card).to_have_count(1)
    expect(card.get_by_role("link", name="Nina Petit")).to_be_visible()
