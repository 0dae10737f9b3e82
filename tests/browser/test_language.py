"""The language switch in the header: French by default, English on demand, and back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _switch_to(ui, language: str) -> None:
    page = ui.page
    switch = page.locator("form.language-switch")
    switch.locator("#language-select").select_option(language)
    ui.submit(switch.get_by_role("button"))


def test_language_switch_to_english_and_back_to_french(ui):
    page = ui.page
    heading = page.get_by_role("heading", level=1)
    ui.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(heading).to_have_text("Connexion")
    expect(page.locator("#language-select")).to_have_accessible_name(re.compile(r"\w"))

    _switch_to(ui, "en")
    expect(page).to_have_url(ui.url("/accounts/login/"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(heading).to_have_text("Sign In")
    expect(page.locator("#language-select")).to_have_value("en")

    _switch_to(ui, "fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(heading).to_have_text("Connexion")
