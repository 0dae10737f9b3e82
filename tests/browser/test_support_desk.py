"""A support agent at the desk: log in with TOTP, find the person, start a mandate to add documents
(no reading), confirm it with the code the person received on her e-mail, add a document, and be
refused its page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django_otp.oath import TOTP
from playwright.sync_api import expect

from apps.assistance.models import Mandate
from apps.records.models import Document
from tests.assistance.helpers import code_sent_to, mandate_for
from tests.browser.helpers import field
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SAMPLE_PDF = Path(settings.CORPUS_DIR) / "pdf/hl7-ud-sample.pdf"
VERIFY_PATH = "/account/security/two-factor/verify/"


def _totp_code(user) -> str:
    device = user.totpdevice_set.get(confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _log_in_with_totp(ui, user) -> None:
    page = ui.page
    ui.log_in(user.email, PASSWORD)
    expect(page).to_have_url(re.compile(re.escape(ui.url(VERIFY_PATH))))
    field(page, "token").fill(_totp_code(user))
    ui.submit(page.locator("main form").get_by_role("button"))
    expect(page).not_to_have_url(re.compile(re.escape(VERIFY_PATH)))


def test_agent_adds_a_document_under_mandate_but_cannot_open_it(ui, sam, alice, alice_record):
    page = ui.page
    _log_in_with_totp(ui, sam)

    ui.goto("/assistance/")
    field(page, "family_name").fill("Martin")
    field(page, "given_name").fill("Alice")
    field(page, "birth_date").fill(alice_record.birth_date.isoformat())
    ui.submit(page.locator('main form[action$="/assistance/"]').get_by_role("button"))
    expect(page.locator("#found-title")).to_contain_text("Alice")

    scopes = page.locator("fieldset.scopes")
    scopes.locator('input[value="upload_documents"]').check()
    expect(scopes.locator('input[value="read_documents"]')).not_to_be_checked()
    field(page, "days").select_option("30")
    page.locator('input[name="method"][value="email_code"]').check()
    ui.submit(page.locator('main form[action$="/assistance/start/"]').get_by_role("button"))
    if "/reauthenticate/" in page.url:  # starting a mandate asks for the password again
        field(page, "password").fill(PASSWORD)
        ui.submit(page.locator("main form").get_by_role("button"))

    mandate = Mandate.objects.get(agent=sam, record=alice_record)
    assert mandate.scopes == ["upload_documents"]
    expect(page).to_have_url(ui.url(f"/assistance/mandates/{mandate.uuid}/confirm/"))
    field(page, "code").fill(code_sent_to(alice.email))
    ui.submit(page.locator("main form").get_by_role("button"))
    expect(page).to_have_url(ui.url("/assistance/mandates/"))
    expect(page.locator(f'li[data-mandate="{mandate.uuid}"]')).to_be_visible()

    ui.goto(f"/records/{alice_record.uuid}/upload/")
    page.locator("#id_files").set_input_files(str(SAMPLE_PDF))
    page.locator("#upload-form button[type=submit]").click()
    expect(page.locator("#upload-progress > li")).to_have_count(1)
    expect(page.locator("#upload-progress > li a")).to_have_attribute("href", re.compile(r"/documents/[0-9a-f-]{36}/"))
    ui.scan()
    document = Document.objects.get(record=alice_record, original_filename=SAMPLE_PDF.name)

    response = ui.goto(f"/documents/{document.uuid}/")
    assert response.status == 404


def test_the_person_stops_a_mandate_from_their_record(ui, sam, alice, alice_record):
    mandate = mandate_for(sam, alice_record, ["account_help"], days=7)
    page = ui.page
    ui.log_in(alice.email, PASSWORD)
    ui.goto(f"/records/{alice_record.uuid}/")
    ui.submit(page.locator(f'main a[href="/records/{alice_record.uuid}/mandates/"]'))
    row = page.locator(f'li[data-mandate="{mandate.uuid}"]')
    expect(row).to_contain_text(sam.display_name)
    ui.submit(row.get_by_role("button"))
    expect(page.locator(f'li[data-mandate="{mandate.uuid}"]')).to_have_class(re.compile(r"state-revoked"))
    assert not Mandate.objects.active().exists()
