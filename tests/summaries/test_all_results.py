"""Nothing hidden: the summary says how much more exists, and "all results / conditions /
medications" list everything the reader may see, grouped, through the same door."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.access.models import AccessEvent, CareRelationship, Outcome
from apps.access.policy import Action
from apps.access.refusals import RecordUnavailable
from apps.clinical.models import ClinicalFact
from apps.clinical.panels import PANEL_LABELS, panel_key, panel_table
from apps.delegations import services as delegations
from apps.delegations.models import Delegation, Scope
from apps.summaries import builder
from apps.summaries.all_facts import all_conditions, all_medications, all_results
from apps.summaries.builder import record_summary
from healthspace.api_errors import not_found_body
from tests.factories import DocumentFactory

LOINC = "http://loinc.org"
LIPIDS = [("2093-3", "Cholestérol total"), ("2085-9", "Cholestérol HDL"), ("18262-6", "Cholestérol LDL")]


def result(record, document, code, display, day, value="1.5", unit="g/L", **fields) -> ClinicalFact:
    return ClinicalFact(
        record=record,
        source_document=document,
        kind="observation",
        code_system=LOINC,
        code=code,
        display=display,
        value_decimal=Decimal(value),
        unit=unit,
        effective_date=day,
        **fields,
    )


def sixty_series(record, document) -> None:
    """39 newer tests, total cholesterol the 40th, then HDL and LDL, then 18 older tests."""
    newest = date(2024, 6, 1)
    facts = [result(record, document, f"90{n:03d}-1", f"Test {n:02d}", newest - timedelta(days=n)) for n in range(39)]
    facts.append(result(record, document, "2093-3", "Cholestérol total", newest - timedelta(days=39)))
    facts += [
        result(record, document, code, display, newest - timedelta(days=40 + n))
        for n, (code, display) in enumerate(LIPIDS[1:])
    ]
    older = newest - timedelta(days=50)
    facts += [result(record, document, f"91{n:03d}-1", f"Old {n:02d}", older - timedelta(days=n)) for n in range(18)]
    ClinicalFact.objects.bulk_create(facts)


def without_csrf(page: bytes) -> bytes:
    """A page without its CSRF token (the log-out form's), which differs on every response."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", page)


def delegate(owner, record, caregiver, scopes) -> None:
    delegation, _token = delegations.delegation_invite(actor=owner, record=record, email=caregiver.email, scopes=scopes)
    Delegation.objects.filter(pk=delegation.pk).update(delegate=caregiver, accepted_at=timezone.now())


# --- The panel table --------------------------------------------------------------------------


def test_panel_table_is_versioned_and_every_panel_has_a_label():
    table = panel_table()
    assert table.version
    assert set(table.panel_of.values()) <= set(PANEL_LABELS)
    assert {panel_key(LOINC, code) for code, _display in LIPIDS} == {"lipids"}


def test_a_test_not_in_the_table_goes_to_its_source_group_else_to_other():
    assert panel_key(LOINC, "99999-9", "  Hématologie ") == "group:hematologie"
    assert panel_key(LOINC, "99999-9") == "other"
    assert panel_key("urn:oid:1.2.250.1.213.2.12", "2093-3") == "other"  # another system's 2093-3


# --- The summary says what it leaves out -----------------------------------------------------


def test_summary_shows_forty_series_and_says_sixty_exist(as_user, alice, alice_record):
    sixty_series(alice_record, DocumentFactory(record=alice_record))
    summary = record_summary(actor=alice, record=alice_record)
    assert len(summary.results) == builder.RESULTS_LIMIT == 40
    assert (summary.totals.results, summary.more.results) == (60, 20)
    assert "2085-9" not in [series.code for series in summary.results]  # HDL is past the 40th card
    page = as_user(alice).get(reverse("record_detail", args=[alice_record.uuid])).content.decode()
    assert "Showing 40 of 60 results" in page
    assert f'href="{reverse("all_results", args=[alice_record.uuid])}"' in page


def test_summary_counts_past_conditions_and_medications_and_links_to_them(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record)
    for kind, display, status in (
        ("condition", "Asthme", "active"),
        ("condition", "Pyélonéphrite", "resolved"),
        ("medication", "Ventoline", "active"),
        ("medication", "Amoxicilline", "stopped"),
        ("medication", "Doliprane", "stopped"),
    ):
        ClinicalFact.objects.create(
            record=alice_record, source_document=document, kind=kind, display=display, status=status
        )
    summary = record_summary(actor=alice, record=alice_record)
    assert (summary.totals.conditions, summary.more.conditions) == (2, 1)
    assert (summary.totals.medications, summary.more.medications) == (3, 2)
    page = as_user(alice).get(reverse("record_detail", args=[alice_record.uuid])).content.decode()
    assert "1 more in the history" in page
    assert "2 more in the history" in page
    assert reverse("all_conditions", args=[alice_record.uuid]) in page
    assert reverse("all_medications", args=[alice_record.uuid]) in page


# --- All results ------------------------------------------------------------------------------


def test_all_results_lists_the_sixty_series_with_ldl_and_hdl_under_lipids(as_user, alice, alice_record):
    sixty_series(alice_record, DocumentFactory(record=alice_record))
    panels = all_results(actor=alice, record=alice_record)
    assert sum(len(panel.series) for panel in panels) == 60
    lipids = next(panel for panel in panels if panel.key == "lipids")
    assert [series.code for series in lipids.series] == ["2093-3", "2085-9", "18262-6"]  # as a lab report lists them
    assert panels[-1].key == "other"
    page = as_user(alice).get(reverse("all_results", args=[alice_record.uuid])).content.decode()
    lipids_html = page[page.index('data-panel="lipids"') : page.index('data-panel="other"')]
    for series in lipids.series:  # the short names a person reads (else the source's words)
        assert f'<th scope="row">{series.name or series.display}' in lipids_html
    assert "<caption" in lipids_html
    assert page.count('<tr class="result') == 60


def test_a_result_keeps_the_value_and_unit_the_source_wrote_and_its_source_link(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record, title="Bilan lipidique")
    result(alice_record, document, "2085-9", "Cholestérol HDL", date(2024, 1, 1), value="0.45").save()
    page = as_user(alice).get(reverse("all_results", args=[alice_record.uuid])).content.decode()
    assert "0.45 g/L" in page
    assert f'href="{reverse("document_detail", args=[document.uuid])}"' in page
    assert "Bilan lipidique" in page


def test_results_outside_the_table_are_grouped_as_their_source_groups_them(alice, alice_record):
    document = DocumentFactory(record=alice_record)
    result(alice_record, document, "99999-9", "Vitesse X", date(2024, 1, 1), group_label="Hématologie").save()
    result(alice_record, document, "99998-9", "Dosage Y", date(2024, 1, 1)).save()
    panels = all_results(actor=alice, record=alice_record)
    assert [(panel.key, panel.label) for panel in panels] == [
        ("group:hematologie", "Hématologie"),
        ("other", "Other results"),
    ]


def test_all_results_trend_uses_the_series_history(alice, alice_record):
    document = DocumentFactory(record=alice_record)
    for day, value in ((date(2023, 1, 1), "1.2"), (date(2024, 1, 1), "1.6")):
        result(alice_record, document, "18262-6", "LDL", day, value=value).save()
    [lipids] = all_results(actor=alice, record=alice_record)
    assert (lipids.series[0].trend, len(lipids.series[0].points)) == ("up", 2)


def test_a_caregiver_without_document_rights_sees_values_but_no_document_titles(as_user, alice, alice_record, bob):
    delegate(alice, alice_record, bob, [Scope.READ_PROFILE])
    document = DocumentFactory(record=alice_record, title="Compte rendu du laboratoire")
    result(alice_record, document, "2085-9", "Cholestérol HDL", date(2024, 1, 1), value="0.52").save()
    page = as_user(bob).get(reverse("all_results", args=[alice_record.uuid])).content.decode()
    assert "0.52 g/L" in page
    assert "Compte rendu du laboratoire" not in page
    assert reverse("document_detail", args=[document.uuid]) not in page
    assert "from a document" in page


@pytest.fixture
def restricted_matrix(settings):
    settings.PROFESSION_DOCUMENT_MATRIX = {"general_practitioner": frozenset({"lab_result", "prescription", "other"})}


@pytest.mark.usefixtures("restricted_matrix")
def test_a_professional_sees_no_fact_from_a_masked_document_or_one_outside_the_matrix(alice_record, dr_martin):
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    shown = DocumentFactory(record=alice_record, category="lab_result")
    masked = DocumentFactory(record=alice_record, category="lab_result", masked=True)
    outside = DocumentFactory(record=alice_record, category="imaging")
    result(alice_record, shown, "2085-9", "HDL", date(2024, 1, 1)).save()
    result(alice_record, masked, "18262-6", "LDL", date(2024, 1, 1)).save()
    result(alice_record, outside, "2093-3", "Total", date(2024, 1, 1)).save()
    for kind, document in (("condition", masked), ("medication", outside)):
        ClinicalFact.objects.create(record=alice_record, source_document=document, kind=kind, display="Secret")
    panels = all_results(actor=dr_martin, record=alice_record)
    assert [series.code for panel in panels for series in panel.series] == ["2085-9"]
    assert all_conditions(actor=dr_martin, record=alice_record) == []
    assert all_medications(actor=dr_martin, record=alice_record) == []


@pytest.mark.parametrize("name", ["all_results", "all_conditions", "all_medications"])
def test_someone_without_access_gets_the_one_404_and_it_is_journaled(as_user, alice_record, charlie, name):
    client = as_user(charlie)
    missing_uuid = uuid.uuid4()
    refused = client.get(reverse(name, args=[alice_record.uuid]))
    missing = client.get(reverse(name, args=[missing_uuid]))
    assert refused.status_code == missing.status_code == 404
    # The same page but for the address itself (the language switch returns to it) and the token.
    refused_page = without_csrf(refused.content).replace(str(alice_record.uuid).encode(), b"ID")
    assert refused_page == without_csrf(missing.content).replace(str(missing_uuid).encode(), b"ID")
    assert AccessEvent.objects.filter(
        record_uuid=alice_record.uuid, actor_uuid=charlie.uuid, action=Action.PROFILE_READ, outcome=Outcome.DENIED
    ).exists()


@pytest.mark.parametrize("name", ["api_record_results", "api_record_conditions", "api_record_medications"])
def test_the_api_refuses_with_the_one_404_body(as_user, alice_record, charlie, name):
    client = as_user(charlie)
    refused = client.get(reverse(name, args=[alice_record.uuid]))
    missing = client.get(reverse(name, args=[uuid.uuid4()]))
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json() == not_found_body()


def test_the_service_refuses_through_the_door_and_journals_it(alice_record, charlie):
    with pytest.raises(RecordUnavailable):
        all_results(actor=charlie, record=alice_record)
    assert AccessEvent.objects.filter(actor_uuid=charlie.uuid, outcome=Outcome.DENIED).count() == 1


def test_reading_all_results_is_journaled_once_as_a_profile_read(as_user, alice, alice_record):
    before = AccessEvent.objects.filter(record_uuid=alice_record.uuid, action=Action.PROFILE_READ).count()
    as_user(alice).get(reverse("all_results", args=[alice_record.uuid]))
    after = AccessEvent.objects.filter(record_uuid=alice_record.uuid, action=Action.PROFILE_READ).count()
    assert after - before == 1


def test_api_returns_the_same_panels_as_the_service(as_user, alice, alice_record):
    sixty_series(alice_record, DocumentFactory(record=alice_record))
    expected = [
        (panel.key, panel.label, [series.code for series in panel.series])
        for panel in all_results(actor=alice, record=alice_record)
    ]
    body = as_user(alice).get(reverse("api_record_results", args=[alice_record.uuid])).json()
    assert body["record"] == str(alice_record.uuid)
    assert [(p["key"], p["label"], [s["code"] for s in p["series"]]) for p in body["panels"]] == expected
    hdl = next(s for p in body["panels"] for s in p["series"] if s["code"] == "2085-9")
    assert (hdl["latest"]["value"], hdl["latest"]["unit"]) == ("1.5", "g/L")


def test_summary_api_says_how_many_more_exist(as_user, alice, alice_record):
    sixty_series(alice_record, DocumentFactory(record=alice_record))
    body = as_user(alice).get(reverse("api_record_summary", args=[alice_record.uuid])).json()
    assert body["totals"]["results"] == 60
    assert body["more"]["results"] == 20


def _many_facts(record, document, *, series: int, points: int) -> None:
    ClinicalFact.objects.bulk_create(
        result(record, document, code, display, date(2010, 1, 1) + timedelta(days=day), value=str(day))
        for code, display in [*LIPIDS, *((f"90{n:03d}-1", f"Test {n}") for n in range(series - len(LIPIDS)))]
        for day in range(points)
    )


def test_all_results_page_runs_the_same_queries_for_a_small_and_a_large_record(as_user, alice, alice_record, bob):
    small, large = alice_record, bob.own_record
    _many_facts(small, DocumentFactory(record=small), series=3, points=1)
    _many_facts(large, DocumentFactory(record=large), series=60, points=40)
    clients = {small: as_user(alice), large: as_user(bob)}
    for record, client in clients.items():
        client.get(reverse("all_results", args=[record.uuid]))  # a first visit
    with CaptureQueriesContext(connection) as small_queries:
        assert clients[small].get(reverse("all_results", args=[small.uuid])).status_code == 200
    with CaptureQueriesContext(connection) as large_queries:
        page = clients[large].get(reverse("all_results", args=[large.uuid])).content.decode()
    assert page.count('<tr class="result') == 60
    assert len(large_queries.captured_queries) == len(small_queries.captured_queries)


def test_all_results_loads_the_trend_points_not_the_history(alice, alice_record, monkeypatch):
    loaded = []
    monkeypatch.setattr("apps.summaries.all_facts._rows", _spy(loaded))
    _many_facts(alice_record, DocumentFactory(record=alice_record), series=3, points=100)
    all_results(actor=alice, record=alice_record)
    assert len(loaded[0]) == 3 * builder.TREND_POINTS


def _spy(loaded):
    from apps.summaries import all_facts

    original = all_facts._rows

    def rows(visible, condition):
        facts = original(visible, condition)
        loaded.append(facts)
        return facts

    return rows


# --- All conditions and medications -------------------------------------------------------------


def test_all_conditions_lists_current_then_past_each_newest_first(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record, title="Lettre de sortie")
    for display, status, day in (
        ("Pyélonéphrite aiguë", "resolved", date(2018, 3, 1)),
        ("Asthme", "active", date(2020, 1, 1)),
        ("Hypertension", "active", date(2023, 5, 1)),
        ("Angine", "resolved", date(2021, 2, 1)),
    ):
        ClinicalFact.objects.create(
            record=alice_record,
            source_document=document,
            kind="condition",
            display=display,
            status=status,
            effective_date=day,
        )
    lines = all_conditions(actor=alice, record=alice_record)
    assert [(entry.line.display, entry.current) for entry in lines] == [
        ("Hypertension", True),
        ("Angine", False),
        ("Asthme", True),
        ("Pyélonéphrite aiguë", False),
    ]
    page = as_user(alice).get(reverse("all_conditions", args=[alice_record.uuid])).content.decode()
    current, past = page.index('id="current-title"'), page.index('id="past-title"')
    assert current < page.index("Hypertension") < page.index("Asthme") < past
    assert past < page.index("Angine") < page.index("Pyélonéphrite aiguë")
    assert "Lettre de sortie" in page


def test_all_medications_include_stopped_ones_with_their_latest_mention(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record)
    for status, day in (("active", date(2022, 1, 1)), ("stopped", date(2023, 1, 1))):
        ClinicalFact.objects.create(
            record=alice_record,
            source_document=document,
            kind="medication",
            display="Amoxicilline",
            status=status,
            effective_date=day,
        )
    [line] = all_medications(actor=alice, record=alice_record)
    assert (line.line.status, line.line.date, line.current) == ("stopped", date(2023, 1, 1), False)
    body = as_user(alice).get(reverse("api_record_medications", args=[alice_record.uuid])).json()
    assert [(m["display"], m["current"]) for m in body["medications"]] == [("Amoxicilline", False)]
