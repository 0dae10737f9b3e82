"""Privacy: the patient's choices (blocking, hiding, emergency access, access codes), what professionals
then meet on /pro/, and what the patient reads in their access history.

Several people take turns in one browser context: each logs out before the next logs in.
A professional has a TOTP device and passes the code step after the password.
"""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from django_otp.oath import TOTP
from playwright.sync_api import expect

from apps.access.policy import Action
from apps.access.sentences import ACTION_PHRASES, BASIS_PHRASES, REFUSALS
from apps.access.visibility import PANEL_REASONS
from apps.accounts.models import Profession
from apps.records.models import Document
from tests.browser.helpers import field
from tests.factories import PASSWORD, DocumentFactory, ProfessionalFactory, totp_device

pytestmark = pytest.mark.browser

INS = "279035121518989"  # ANS test identity: a woman born in March 1979
VERIFY_PATH = "/account/security/two-factor/verify/"
PRO_HOME = "/pro/"
NOT_REVEALING = re.compile(r"block|bloqu", re.IGNORECASE)


def fr(text: str) -> str:
    """``text`` as the French pages show it (the catalogue may or may not translate it yet)."""
    with translation.override("fr"):
        return translation.gettext(str(text))


def fr_lazy(message) -> str:
    """A lazy message (from a table of the app) rendered in French."""
    with translation.override("fr"):
        return str(message)


def _phrase(action: str) -> str:
    """What was done, on the reader's own record, as the history says it in French ("opened your record")."""
    with translation.override("fr"):
        return str(ACTION_PHRASES[action][0]) % {"object": translation.gettext("your record")}


@pytest.fixture
def alice_report(alice) -> Document:
    """Alice's own record, with her INS, and one consultation report in it."""
    record = alice.own_record
    record.ins = INS
    record.save()
    return DocumentFactory(record=record, title="Compte rendu de consultation", category="report")


@pytest.fixture
def dr_roux(db):
    user = ProfessionalFactory(
        email="dr.roux@example.test", display_name="Dr Nadia Roux", profession=Profession.GENERAL_PRACTITIONER
    )
    totp_device(user)
    return user


def _record_path(user) -> str:
    return f"/records/{user.own_record.uuid}/"


def _totp_code(user) -> str:
    device = user.totpdevice_set.get(confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _log_in_professional(ui, professional) -> None:
    """Password, then the TOTP code (each professional logs in once per test: no code is used twice)."""
    page = ui.page
    ui.log_in(professional.email, PASSWORD)
    expect(page).to_have_url(re.compile(re.escape(ui.url(VERIFY_PATH))))
    field(page, "token").fill(_totp_code(professional))
    ui.submit(page.locator("main form").get_by_role("button"))
    expect(page).not_to_have_url(re.compile(re.escape(VERIFY_PATH)))


def _switch_to(ui, user) -> None:
    ui.log_out()
    if user.is_professional:
        _log_in_professional(ui, user)
    else:
        ui.log_in(user.email, PASSWORD)


def _find_by_ins(ui, ins: str = INS) -> None:
    page = ui.page
    ui.goto(PRO_HOME)
    field(page, "ins").fill(ins)
    ui.submit(page.locator('main form[action$="/pro/find/"]').get_by_role("button"))


def _history_entries(ui, owner, *, has_text: str):
    ui.goto(f"{_record_path(owner)}history/")
    return ui.page.locator("main li.history-entry").filter(has_text=has_text)


def test_blocked_doctor_is_refused_without_being_told_then_an_access_code_opens_the_record(
    ui, alice, alice_report, dr_martin, dr_roux
):
    page = ui.page
    record_path = _record_path(alice)

    # Alice blocks Dr Martin from her privacy page.
    ui.log_in(alice.email, PASSWORD)
    ui.goto(record_path)
    ui.submit(page.locator(f'main a[href="{record_path}privacy/"]'))
    field(page, "q").fill("Claire")
    ui.submit(page.get_by_role("search").get_by_role("button"))
    expect(page).to_have_url(re.compile(r"[?&]q=Claire(&|$)"))
    found = page.locator("main li").filter(has_text="Dr Claire Martin")
    expect(found).to_have_count(1)
    ui.submit(found.locator('form[action$="/privacy/block/"]').get_by_role("button"))
    expect(page.locator("main .messages")).to_contain_text("Dr Claire Martin")
    blocked = page.locator("main section[aria-labelledby=blocked-title] li").filter(has_text="Dr Claire Martin")
    expect(blocked.locator('input[name="blocked"]')).to_have_value("0")  # its button unblocks
    expect(page.locator("main section[aria-labelledby=changes-title] tbody tr")).to_have_count(1)

    # Dr Martin finds her by INS, attests care, and is refused in words that do not name the block.
    _switch_to(ui, dr_martin)
    _find_by_ins(ui)
    expect(page.locator("#found-title")).to_have_text("Alice Martin")
    ui.submit(page.locator('main form[action$="/attest/"]').get_by_role("button"))
    expect(page.get_by_role("heading", level=1)).to_have_text(fr("Page not found"))
    assert not NOT_REVEALING.search(page.locator("body").inner_text())
    ui.goto(PRO_HOME)
    expect(page.locator(f'main a[href="{record_path}"]')).to_have_count(0)
    ui.goto(record_path)  # nor does the address open it
    assert not NOT_REVEALING.search(page.locator("body").inner_text())
    expect(page.locator("main li.document")).to_have_count(0)

    # Alice reads the refused attempt, and why.
    _switch_to(ui, alice)
    refused = _history_entries(ui, alice, has_text="Dr Claire Martin").filter(has_text=fr_lazy(REFUSALS["blocked"]))
    # the attestation, the address typed, and /pro/ listing his patients: each refused, each said why
    expect(refused.first).to_be_visible()
    expect(refused.first).to_have_class(re.compile(r"\brefused\b"))
    opened = page.locator("main li.history-entry:not(.refused)").filter(has_text="Dr Claire Martin")
    expect(opened.filter(has_text=_phrase(Action.RECORD_VIEW))).to_have_count(0)

    # She gives a one-hour access code.
    ui.goto(record_path)
    ui.submit(page.locator(f'main a[href="{record_path}access-codes/"]'))
    field(page, "hours").select_option("1")
    ui.submit(page.locator("main form:not([action])").get_by_role("button"))
    code = page.locator("#fresh-code").inner_text().strip()
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", code), code
    expect(page.locator("main .qr svg")).to_have_count(1)
    expect(page.locator("main ul.plain > li")).to_have_count(1)
    expect(page.locator("main ul.plain > li")).to_contain_text(f"…{code[-2:]}")

    # Dr Roux types it and lands on the record, with the document.
    _switch_to(ui, dr_roux)
    ui.goto(PRO_HOME)
    field(page, "code").fill(code)
    ui.submit(page.locator('main form[action$="/pro/code/"]').get_by_role("button"))
    expect(page).to_have_url(ui.url(record_path))
    expect(page.locator("main li.document").get_by_role("link")).to_have_text(alice_report.title)

    # Alice sees how Dr Roux came in.
    _switch_to(ui, alice)
    entries = _history_entries(ui, alice, has_text="Dr Nadia Roux").filter(has_text=_phrase(Action.RECORD_VIEW))
    with_code = entries.filter(has_text=fr_lazy(BASIS_PHRASES["access_code"]))
    expect(with_code.first).to_be_visible()
    expect(with_code.first).not_to_have_class(re.compile(r"\brefused\b"))
    expect(entries.filter(has_text=fr_lazy(BASIS_PHRASES["none"]))).to_have_count(0)


def test_hidden_document_is_explained_and_left_out_for_a_caring_professional(ui, alice, alice_report, dr_roux):
    page = ui.page
    letter = DocumentFactory(record=alice.own_record, title="Ordonnance de kinésithérapie", category="prescription")
    ui.log_in(alice.email, PASSWORD)
    ui.goto(f"/documents/{alice_report.uuid}/")
    ui.submit(page.locator('main form[action$="/mask/"]').get_by_role("button"))
    expect(page.locator('main form[action$="/mask/"] input[name="masked"]')).to_have_value("0")

    panel = page.locator("main table.who-can-see")
    doctor = panel.get_by_role("row").filter(has=page.get_by_role("rowheader", name=fr("A doctor caring for you")))
    expect(doctor).to_have_count(1)
    expect(doctor.locator("td").first).to_have_class("no")
    expect(doctor).to_contain_text(fr_lazy(PANEL_REASONS["masked"]))
    you = panel.get_by_role("row").filter(has=page.get_by_role("rowheader", name=fr("You"), exact=True))
    expect(you.locator("td").first).to_have_class("yes")

    ui.goto(f"{_record_path(alice)}privacy/")
    hidden = page.locator("main section[aria-labelledby=masked-title] li")
    expect(hidden).to_have_count(1)
    expect(hidden.get_by_role("link")).to_have_text(alice_report.title)

    # A professional who finds her by name and birth date and attests care sees only the other document.
    _switch_to(ui, dr_roux)
    ui.goto(PRO_HOME)
    field(page, "family_name").fill("Martin")
    field(page, "given_name").fill("Alice")
    field(page, "birth_date").fill("1979-03-12")
    ui.submit(page.locator('main form[action$="/pro/find/"]').get_by_role("button"))
    ui.submit(page.locator('main form[action$="/attest/"]').get_by_role("button"))
    expect(page).to_have_url(ui.url(_record_path(alice)))
    listed = page.locator("main li.document")
    expect(listed).to_have_count(1)
    expect(listed.get_by_role("link")).to_have_text(letter.title)
    expect(page.locator("main")).not_to_contain_text(alice_report.title)


def test_emergency_refused_when_the_patient_turned_it_off(ui, alice, alice_report, dr_martin):
    page = ui.page
    ui.log_in(alice.email, PASSWORD)
    ui.goto(f"{_record_path(alice)}privacy/")
    emergency = page.locator("main section[aria-labelledby=setting-emergency_access]")
    expect(emergency.locator('input[name="on"]')).to_have_value("0")  # on: the button turns it off
    ui.submit(emergency.get_by_role("button"))
    expect(emergency.locator('input[name="on"]')).to_have_value("1")
    expect(page.locator("#setting-emergency_access")).to_contain_text(fr("off"))
    expect(page.locator("main section[aria-labelledby=changes-title] tbody tr")).to_have_count(1)

    _switch_to(ui, dr_martin)
    _find_by_ins(ui)
    field(page, "justification").fill("Patiente inconsciente aux urgences, allergies inconnues.")
    ui.submit(page.locator('main form[action$="/emergency/"]').get_by_role("button"))
    # The refusal reads like a record that is not there: the patient's choice is not told.
    expect(page.get_by_role("heading", level=1)).to_have_text(fr("Page not found"))
    expect(page.locator("main")).not_to_contain_text("urgence")
    ui.goto(PRO_HOME)
    expect(page.locator(f'main a[href="{_record_path(alice)}"]')).to_have_count(0)


def test_directives_data_use_and_filtered_history(ui, alice, alice_report, dr_martin):
    page = ui.page
    record_path = _record_path(alice)

    # The data-use page, logged out: its links lead to the home page (then the login page).
    ui.goto("/how-my-data-is-used/")
    expect(page.get_by_role("heading", level=1)).to_have_text(fr("How my data is used"))
    expect(page.locator('main a[data-control="privacy"]')).to_have_attribute("href", "/")

    ui.log_in(alice.email, PASSWORD)
    ui.goto("/how-my-data-is-used/")
    expect(page.locator('main a[data-control="privacy"]')).to_have_attribute("href", f"{record_path}privacy/")
    expect(page.locator('main a[data-control="history"]')).to_have_attribute("href", f"{record_path}history/")
    ui.submit(page.locator('main a[data-control="directives"]'))

    # Personal directives: name a trusted person.
    expect(page).to_have_url(ui.url(f"{record_path}directives/"))
    field(page, "trusted_person_name").fill("Jeanne Martin")
    field(page, "trusted_person_relationship").fill("ma sœur")
    ui.submit(page.locator("main form[method=post]").get_by_role("button"))
    expect(page).to_have_url(ui.url(f"{record_path}directives/"))
    expect(page.locator("main .messages")).to_contain_text(fr("Your choices were saved."))
    expect(field(page, "trusted_person_name")).to_have_value("Jeanne Martin")
    expect(page.locator("main section[aria-labelledby=history-title] li")).to_have_count(1)

    # A refused attempt by a professional, then the history filtered on refusals.
    _switch_to(ui, dr_martin)
    ui.goto(record_path)
    _switch_to(ui, alice)
    ui.goto(f"{record_path}history/")
    expect(page.locator("main li.history-entry:not(.refused)").first).to_be_visible()
    page.locator("main details.filters > summary").click()
    field(page, "outcome").select_option("denied")
    ui.submit(page.get_by_role("search").get_by_role("button", name=fr("Show")))
    expect(page).to_have_url(re.compile(r"[?&]outcome=denied(&|$)"))
    expect(page.locator("main details.filters")).to_have_attribute("open", "")
    entries = page.locator("main li.history-entry")
    expect(entries.first).to_be_visible()
    expect(page.locator("main li.history-entry:not(.refused)")).to_have_count(0)
    expect(entries.filter(has_text="Dr Claire Martin")).not_to_have_count(0)
    expect(page.locator(f'main a[href^="{record_path}history/export.csv?"]')).to_have_attribute(
        "href", re.compile(r"outcome=denied")
    )
