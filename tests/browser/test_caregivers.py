"""Caregivers: Alice invites Bob, Bob accepts and reads within what she allows, Alice stops it and
Bob, still on her record, is refused at the next page load ("refused mid-session").

Alice and Bob each have their own browser context (two people, two devices), both in the
viewport of the test; every page either of them lands on is scanned by axe.
"""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from apps.delegations.models import Delegation
from apps.notifications.models import OutboxMessage
from tests.browser.conftest import Browse
from tests.browser.helpers import field
from tests.factories import PASSWORD, DocumentFactory

pytestmark = pytest.mark.browser

EXPLAINED = (
    "A caregiver acts for you within what you allow, until the date you choose. "
    'Everything they do appears in your access history as "Bob, for Alice".'
)
ACCEPT_LINK = re.compile(r"https?://\S+?(/delegations/accept/[^\s/]+/)")


def fr(text: str) -> str:
    """``text`` as the French pages show it (the catalogue may or may not translate it yet)."""
    with translation.override("fr"):
        return translation.gettext(str(text))


def _invitation_path(email: str) -> str:
    messages = [m for m in OutboxMessage.objects.order_by("-created_at") if email in m.to]
    assert messages, f"no e-mail in the outbox for {email}"
    match = ACCEPT_LINK.search(messages[0].body)
    assert match, f"no invitation link in the e-mail body:\n{messages[0].body}"
    return match.group(1)


@pytest.fixture
def alice_ui(browser, page, live_server, check_a11y):
    """Alice's own browser context, beside Bob's (``ui``), with the same viewport and locale."""
    context = browser.new_context(**page.context_options)
    alice_page = context.new_page()
    alice_page.context_options = page.context_options
    try:
        yield Browse(alice_page, live_server.url, check_a11y)
    finally:
        context.close()


def test_caregiver_invited_accepts_reads_and_is_refused_mid_session_once_stopped(ui, alice_ui, alice, bob):
    record = alice.own_record
    record_path = f"/records/{record.uuid}/"
    caregivers_path = f"{record_path}caregivers/"
    report = DocumentFactory(record=record, title="Compte rendu de consultation", category="report")

    # Alice invites Bob to read her documents, from her record page.
    apage = alice_ui.page
    alice_ui.log_in(alice.email, PASSWORD)
    alice_ui.goto(record_path)
    alice_ui.submit(apage.locator(f'main .actions a[href="{caregivers_path}"]'))
    expect(apage.locator("main")).to_contain_text(fr(EXPLAINED))
    field(apage, "email").fill(bob.email)
    read_documents = apage.locator('main input[name="scopes"][value="read_documents"]')
    expect(read_documents).to_have_accessible_name(re.compile(r"\w"))
    expect(read_documents).to_have_accessible_description(re.compile(r"\w"))
    read_documents.check()
    alice_ui.submit(apage.locator("main form:not([action])").get_by_role("button"))
    expect(apage).to_have_url(alice_ui.url(caregivers_path))
    expect(apage.locator("main .messages")).to_contain_text(bob.email)
    waiting = apage.locator("main li.delegation")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text(fr("waiting for acceptance"))

    # Bob opens the link of the e-mail, logged in, and accepts.
    page = ui.page
    ui.log_in(bob.email, PASSWORD)
    ui.goto(_invitation_path(bob.email))
    expect(page.locator("main")).to_contain_text("Alice Martin")
    expect(page.locator("main li")).to_have_count(1)  # one scope: read documents
    ui.submit(page.locator("main form").get_by_role("button"))
    expect(page).to_have_url(ui.url(record_path))
    expect(page.locator("main .record-of")).to_contain_text("Alice MARTIN")  # whose record is on screen
    expect(page.locator("main .messages")).to_contain_text("Alice Martin")
    document_link = page.locator("main li.document").get_by_role("link")
    expect(document_link).to_have_text(report.title)
    expect(page.locator(f'main a[href="{caregivers_path}"]')).to_have_count(0)
    expect(page.locator(f'main a[href="{record_path}upload/"]')).to_have_count(0)
    ui.submit(document_link)
    expect(page.get_by_role("heading", level=1)).to_have_text(report.title)

    # Only reading was given: the upload address is refused.
    response = ui.goto(f"{record_path}upload/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text(fr("Page not found"))

    # His home page says whom he helps, and with what.
    ui.goto("/")
    helped = page.locator("main li.card[data-delegated]")
    expect(helped).to_have_count(1)
    expect(helped).to_contain_text("Alice Martin")
    expect(page.locator("main section[aria-labelledby=helping-title] li")).to_have_count(1)

    # Back on Alice's record; Alice meanwhile stops the delegation from her caregivers page.
    ui.goto(record_path)
    expect(document_link).to_have_text(report.title)
    alice_ui.goto(caregivers_path)
    row = apage.locator("main li.delegation")
    expect(row).to_contain_text("Bob Martin")
    expect(row).to_contain_text(fr("active"))
    alice_ui.submit(row.get_by_role("button"))
    expect(apage.locator("main .messages")).to_contain_text("Bob Martin")
    expect(row).to_contain_text(fr("stopped"))
    expect(row.get_by_role("button")).to_have_count(0)
    assert Delegation.objects.get().revoked_at is not None

    # Bob, still on her record page, reloads: refused, like a page that does not exist.
    response = page.reload()
    ui.scan()
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text(fr("Page not found"))
    expect(page.locator("main")).not_to_contain_text(report.title)
