"""Assisted activation: at the desk, a support agent under mandate prints Josette's activation
letter; at home, Josette types its identifier and code, chooses her password, and logs in with
her identifier. Every page is scanned by axe, on phone and desktop.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.records.models import Record
from tests.assistance.helpers import mandate_for
from tests.assistance.test_letters import code_in
from tests.browser.helpers import field
from tests.browser.test_support_desk import _log_in_with_totp
from tests.factories import RecordFactory

pytestmark = pytest.mark.browser

JOSETTE_PASSWORD = "a quiet garden in spring"


def test_agent_prints_the_letter_and_the_person_opens_her_account(ui, sam):
    josette = RecordFactory(owner=None, given_names="Josette", family_name="Dupuis", sex="F")
    # A paper mandate, countersigned by another manager of Sam's structure.
    mandate_for(sam, josette, ["account_help"], days=30)
    page = ui.page

    _log_in_with_totp(ui, sam)
    ui.goto("/assistance/mandates/")
    ui.submit(page.locator(f'main a[href="/assistance/records/{josette.uuid}/account/"]'))
    with page.expect_download() as download_info:
        page.locator(f'main form[action$="/records/{josette.uuid}/account/letter.pdf"] button').click()
    code = code_in(open(download_info.value.path(), "rb").read())  # noqa: SIM115
    ui.goto(f"/assistance/records/{josette.uuid}/account/")
    expect(page.locator("ul.letters li.state-open")).to_have_count(1)
    ui.log_out()

    # At home: the login page leads to the letter's page.
    ui.goto("/accounts/login/")
    ui.submit(page.locator('main a[href="/activate/"]'))
    field(page, "login_id").fill("josette.dupuis")
    field(page, "code").fill("AAAAA-AAAAA")
    ui.submit(page.locator("main form").get_by_role("button"))
    expect(page.locator("main [role=alert]")).to_be_visible()
    field(page, "code").fill(code.lower())
    ui.submit(page.locator("main form").get_by_role("button"))
    expect(page).to_have_url(ui.url("/activate/password/"))
    field(page, "password1").fill(JOSETTE_PASSWORD)
    field(page, "password2").fill(JOSETTE_PASSWORD)
    ui.submit(page.locator("main form").get_by_role("button"))
    expect(page).to_have_url(re.compile(re.escape(ui.url("/accounts/login/"))))
    expect(page.locator(".messages")).to_contain_text("josette.dupuis")

    ui.log_in("josette.dupuis", JOSETTE_PASSWORD)
    josette = Record.objects.get(pk=josette.pk)
    assert josette.owner is not None
    assert josette.owner.login_id == "josette.dupuis"
    ui.goto("/")
    expect(page.locator("main")).to_contain_text("Josette")
