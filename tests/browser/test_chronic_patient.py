"""A chronic patient's record of 30+ documents, read as a doctor would in ten seconds: "what does
she take now, what was her last HbA1c or cholesterol, and which document says so?" — answered
from the record's first screen and its search box, without opening a single document.

The record is built with factories (documents and the facts they carry): six years of quarterly
lab reports (HbA1c, total/LDL/HDL cholesterol), current prescriptions and old finished ones.
Our own strings are matched by ids and classes, not words (the French catalogue may lag); the
data (names from the test-name table, values in French conventions, dates) is matched exactly.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format
from playwright.sync_api import expect

from apps.clinical.models import ClinicalFact
from apps.clinical.naming import display_name, value_label
from apps.records.models import Document
from tests.browser.helpers import ConsoleErrors
from tests.factories import PASSWORD, DocumentFactory, RecordFactory, UserFactory

pytestmark = pytest.mark.browser

LOINC = "http://loinc.org"
ATC = "http://www.whocc.no/atc"
HBA1C, CHOLESTEROL, LDL, HDL = "4548-4", "2093-3", "2089-1", "2085-9"
LAB_REPORTS = 26  # a lab report every quarter for six and a half years
CURRENT = [("A10BA02", "METFORMINE 1000 mg, comprimé"), ("C10AA05", "ATORVASTATINE 20 mg, comprimé")]
OLD = [("J01CA04", "AMOXICILLINE 1 g, comprimé"), ("N02BE01", "DOLIPRANE 1000 mg")]


def fr_date(day: date) -> str:
    with translation.override("fr"):
        return date_format(day, "j F Y")


def fr_value(number: Decimal, unit: str) -> str:
    return value_label(number=number, unit=unit, language="fr")


def fr_name(code: str, display: str) -> str:
    return display_name(code_system=LOINC, code=code, display=display, language="fr")


def _fact(record, document, **fields) -> ClinicalFact:
    return ClinicalFact.objects.create(record=record, source_document=document, **fields)


@pytest.fixture
def chronic(transactional_db):
    """Her record: 26 lab reports, 4 old prescriptions, 2 recent ones, a diabetes letter (33 documents)."""
    user = UserFactory(email="claire@example.test", display_name="Claire Dupuis")
    record = RecordFactory(owner=user, family_name="Dupuis", given_names="Claire", birth_date=date(1958, 6, 2))
    today = timezone.localdate()
    first = today - timedelta(days=91 * (LAB_REPORTS - 1) + 20)
    for n in range(LAB_REPORTS):
        day = first + timedelta(days=91 * n)
        report = DocumentFactory(
            record=record, title=f"Bilan biologique du {fr_date(day)}", category="lab_result", care_date=day
        )
        common = {"kind": "observation", "code_system": LOINC, "effective_date": day}
        hba1c, total, ldl = 78 - Decimal(n % 9), 230 - Decimal(n % 5) * 5, 150 - Decimal(n % 4) * 5
        hba1c, total, ldl = hba1c / 10, total / 100, ldl / 100
        _fact(record, report, code=HBA1C, display="HbA1c", value_decimal=hba1c, unit="%", **common)
        _fact(record, report, code=CHOLESTEROL, display="Cholestérol total", value_decimal=total, unit="g/L", **common)
        _fact(record, report, code=LDL, display="LDL cholestérol", value_decimal=ldl, unit="g/L", **common)
        _fact(record, report, code=HDL, display="HDL cholestérol", value_decimal=Decimal("0.52"), unit="g/L", **common)
    for n, (code, name) in enumerate(OLD * 2):
        day = date(2019 + n, 2, 1)
        prescription = DocumentFactory(
            record=record, title=f"Ordonnance du {fr_date(day)}", category="prescription", care_date=day
        )
        finished = {"status": "completed", "effective_date": day, "effective_end": day + timedelta(days=7)}
        _fact(record, prescription, kind="medication", code_system=ATC, code=code, display=name, **finished)
    for months in (4, 1):
        day = today - timedelta(days=30 * months)
        prescription = DocumentFactory(
            record=record, title=f"Ordonnance du {fr_date(day)}", category="prescription", care_date=day
        )
        for code, name in CURRENT:
            taken = {"status": "active", "effective_date": day, "detail": "1 comprimé matin et soir"}
            _fact(record, prescription, kind="medication", code_system=ATC, code=code, display=name, **taken)
    letter = DocumentFactory(record=record, title="Courrier du diabétologue", category="report", care_date=first)
    icd10 = "http://hl7.org/fhir/sid/icd-10"
    _fact(
        record,
        letter,
        kind="condition",
        code_system=icd10,
        code="E11",
        display="Diabète de type 2",
        effective_date=first,
    )
    assert Document.objects.filter(record=record).count() >= 30
    return record


def _latest(record, code: str) -> ClinicalFact:
    return (
        ClinicalFact.objects.select_related("source_document")
        .filter(record=record, code=code)
        .order_by("-effective_date")
        .first()
    )


def _search(ui, record, query: str) -> None:
    page = ui.page
    box = page.locator("#record-search-q")
    expect(box).to_have_accessible_name(re.compile(r"\w"))  # labelled ("Find in this record")
    box.fill(query)
    ui.submit(page.locator("form[role=search].record-search").get_by_role("button"))
    expect(page).to_have_url(re.compile(rf"/records/{record.uuid}/search/\?q="))


def _result_line(page, name: str):
    """The search result line of one thing, found by its name (data, not our words)."""
    lines = page.locator("main ul.search-results > li.search-result")
    return lines.filter(has=page.locator(".result-name", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$")))


def _answers_with_value_date_and_source(page, fact: ClinicalFact) -> None:
    line = _result_line(page, fr_name(fact.code, fact.display))
    expect(line).to_have_count(1)
    expect(line.locator(".result-value")).to_have_text(fr_value(fact.value_decimal, fact.unit))
    expect(line.locator("time.result-date")).to_have_attribute("datetime", fact.effective_date.isoformat())
    expect(line.locator("time.result-date")).to_have_text(fr_date(fact.effective_date))
    source = line.locator("a.source")
    expect(source).to_have_count(1)
    expect(source).to_have_text(fact.source_document.title)
    expect(source).to_have_attribute("href", f"/documents/{fact.source_document.uuid}/")


def test_current_medications_last_hba1c_and_cholesterol_and_their_documents_without_opening_one(ui, chronic):
    page = ui.page
    errors = ConsoleErrors(page)
    ui.log_in(chronic.owner.email, PASSWORD)
    ui.goto(f"/records/{chronic.uuid}/")

    # The first screen: the search box, then the current medications, the old ones not among them.
    expect(page.locator("#record-search-q")).to_be_visible()
    medications = page.locator("section[aria-labelledby='medications-title']")
    current = medications.locator(":scope > ul:not([aria-labelledby]) > li .line-display")
    expect(current).to_have_count(len(CURRENT))
    for _code, name in CURRENT:
        expect(current.filter(has_text=re.compile(rf"^\s*{re.escape(name)}\s*$"))).to_have_count(1)
    for _code, name in OLD:
        expect(current.filter(has_text=name)).to_have_count(0)

    # "The last HbA1c, and from which document?": one search, one line.
    _search(ui, chronic, "hémoglobine glyquée")
    _answers_with_value_date_and_source(page, _latest(chronic, HBA1C))
    expect(page.locator("main ul.search-results > li.search-result")).to_have_count(1)
    # Its earlier values follow on the same line (a glance at the trend).
    expect(_result_line(page, fr_name(HBA1C, "HbA1c")).locator(".earlier")).to_have_count(1)

    # "And the cholesterol?": total, LDL and HDL, each its latest value from the latest report.
    _search(ui, chronic, "cholestérol")
    for code in (CHOLESTEROL, LDL, HDL):
        _answers_with_value_date_and_source(page, _latest(chronic, code))

    # "Which medications?": the current ones first, each with its prescription.
    _search(ui, chronic, "médicaments")
    latest_prescription = (
        ClinicalFact.objects.filter(record=chronic, kind="medication").order_by("-effective_date").first()
    )
    for _code, name in CURRENT:
        line = _result_line(page, name)
        expect(line).to_have_count(1)
        expect(line.locator("a.source")).to_have_text(latest_prescription.source_document.title)
        expect(line.locator("[data-state]")).to_have_attribute("data-state", "current")

    # Nothing found: said, with words to try (links that search again).
    _search(ui, chronic, "zzzyx")
    expect(page.locator("main .search-nothing")).to_contain_text("zzzyx")
    expect(page.locator("main ul.chips a").first).to_have_attribute("href", re.compile(r"^\?q="))

    assert not [url for url in page.scan_log.navigations if "/documents/" in url]  # no document was opened
    assert errors.unexpected() == []


@pytest.mark.parametrize("context_options", [{"java_script_enabled": False}], ids=["no-js"])
def test_the_search_box_works_without_javascript(ui, chronic):
    page = ui.page
    ui.log_in(chronic.owner.email, PASSWORD)
    ui.goto(f"/records/{chronic.uuid}/")
    _search(ui, chronic, "HbA1c")
    _answers_with_value_date_and_source(page, _latest(chronic, HBA1C))
