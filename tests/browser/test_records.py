"""Records seen from the home page: one's own, and a child's added by a parent."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import field
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_home_lists_own_record(ui, alice):
    ui.log_in(alice.email, PASSWORD)
    expect(ui.page).to_have_url(ui.url("/"))
    cards = ui.page.locator("main .card")
    expect(cards).to_have_count(1)
    expect(cards.get_by_role("link", name="Alice Martin")).to_be_visible()


def test_parent_adds_child_record_and_sees_it_listed(ui, alice):
    page = ui.page
    ui.log_in(alice.email, PASSWORD)
    ui.submit(page.locator('main a[href="/records/new-child/"]'))

    field(page, "given_names").fill("Léo")
    field(page, "family_name").fill("Martin")
    field(page, "birth_date").fill("2016-09-04")
    field(page, "sex").select_option("M")
    ui.submit(page.locator("main form").get_by_role("button"))
    expect(page).to_have_url(re.compile(r"/records/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Léo Martin")

    ui.submit(page.get_by_role("navigation").locator('a[href="/"]'))
    cards = page.locator("main .card")
    expect(cards).to_have_count(2)
    expect(cards.get_by_role("link", name="Léo Martin")).to_be_visible()
    expect(cards.get_by_role("link", name="Alice Martin")).to_be_visible()
