"""The date of care a PDF states about itself: labelled dates only, never a birth or print date."""

from __future__ import annotations

from datetime import date

import pytest

from apps.intake.care_dates import (
    care_date_from_metadata,
    care_date_from_text,
    care_date_of_pdf,
    xmp_packet,
)

TODAY = date(2025, 6, 30)


def found(text: str, **kwargs) -> date | None:
    return care_date_from_text(text, today=TODAY, **kwargs)


@pytest.mark.parametrize(
    "text",
    [
        "CHU de Nantes Radiologie Date de l'examen : 12/03/2024 Indication : douleur",
        "Date de l’examen : 12/03/2024",  # a typographic apostrophe
        "DATE DE CONSULTATION 12 mars 2024 Motif : suivi",
        "Date du prélèvement : 12.03.2024 à 08:15",
        "Échantillon prélevé le 12.03.2024",
        "Prélèvement du mardi 12 mars 2024",
        "Compte rendu de consultation du Dr Dupont, Nantes, le 12 mars 2024",
        "Consultation du 12/03/2024",
    ],
)
def test_french_labelled_date_of_care_is_found(text):
    assert found(text) == date(2024, 3, 12)


@pytest.mark.parametrize(
    "text",
    [
        "Date of visit: March 12, 2024",
        "Date of Service: 12 March 2024",
        "Collected: 2024-03-12 Received: 2024-03-13",
        "Specimen collected on 2024-03-12",
        "Discharge date: Mar. 12th, 2024",
    ],
)
def test_english_labelled_date_of_care_is_found(text):
    assert found(text) == date(2024, 3, 12)


def test_unambiguous_us_date_is_read_month_first():
    assert found("Patient Name: Levin, Henry L. Date of Discharge: 03/26/2009 Description") == date(2009, 3, 26)


def test_ambiguous_english_numeric_date_needs_a_regional_hint():
    assert found("Date of service: 03/12/2024") is None
    assert found("Date of service: 03/12/2024", languages=("en-US",)) == date(2024, 3, 12)
    assert found("Date of service: 03/12/2024", languages=("en-GB",)) == date(2024, 12, 3)


def test_first_day_of_the_month_written_1er():
    assert found("Consultation du 1er février 2024") == date(2024, 2, 1)


@pytest.mark.parametrize(
    "text",
    [
        "Mme Dupont, née le 12/03/1950",
        "Né(e) le 12/03/1950",
        "Date de naissance : 12/03/1950",
        "DOB: 1950-03-12",
        "Date of birth: March 12, 1950",
        "Compte rendu Patiente née le 12/03/1950",
    ],
)
def test_birth_date_is_never_taken(text):
    assert found(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Édité le 12/03/2024",
        "Imprimé le 12/03/2024 à 10:02",
        "Compte rendu imprimé le 12/03/2024",
        "Printed: March 12, 2024",
    ],
)
def test_print_or_edition_date_is_never_taken(text):
    assert found(text) is None


def test_a_birth_date_beside_the_labelled_date_does_not_win():
    text = "Patient : DUPONT Marie, née le 02/05/1950. Date de l'examen : 12/03/2024. Imprimé le 20/03/2024"
    assert found(text) == date(2024, 3, 12)


def test_the_care_itself_wins_over_a_report_heading_date():
    text = "Compte rendu d'examens biologiques 1 avril 2024 Date du prélèvement : 12/03/2024"
    assert found(text) == date(2024, 3, 12)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Ordonnance Paracétamol 1 g, 3 fois par jour",
        "Rendez-vous 12/03/2024",  # a date, but no label saying it is the care's
        "Dossier 12/03/2024 Nantes",
    ],
)
def test_no_labelled_date_gives_none(text):
    assert found(text) is None


def test_a_date_in_the_future_or_impossible_is_not_taken():
    assert found("Date de l'examen : 12/03/2031") is None
    assert found("Date de l'examen : 31/02/2024") is None


def test_only_the_languages_asked_for_are_read():
    assert found("Date of visit: March 12, 2024", languages=("fr",)) is None


# --- metadata ----------------------------------------------------------------------------------


def test_a_custom_metadata_key_naming_the_date_of_care_is_taken():
    assert care_date_from_metadata({"CareDate": "D:20240312093000+01'00'"}, today=TODAY) == date(2024, 3, 12)
    assert care_date_from_metadata({"DateOfService": "2024-03-12"}, today=TODAY) == date(2024, 3, 12)


def test_creation_and_modification_dates_are_never_taken():
    info = {"CreationDate": "D:20240312093000", "ModDate": "D:20240313093000", "Title": "Compte rendu"}
    assert care_date_from_metadata(info, today=TODAY) is None


XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:hs="urn:example:health" '
    b'xmp:CreateDate="2024-05-01T10:00:00+02:00" xmp:ModifyDate="2024-05-02T10:00:00+02:00">'
    b"%s</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def test_an_xmp_field_naming_the_date_of_care_is_taken():
    pdf = b"%PDF-1.7\n... stream\n" + XMP % b"<hs:CareDate>2024-03-12</hs:CareDate>" + b"\nendstream"
    assert care_date_from_metadata({}, xmp_packet(pdf), today=TODAY) == date(2024, 3, 12)


def test_xmp_creation_and_modification_dates_are_never_taken():
    assert care_date_from_metadata({}, xmp_packet(XMP % b""), today=TODAY) is None


def test_a_damaged_or_hostile_xmp_packet_gives_none():
    hostile = b'<x:xmpmeta><!DOCTYPE x [<!ENTITY a "b">]><hs:CareDate>&a;</hs:CareDate></x:xmpmeta>'
    assert care_date_from_metadata({}, xmp_packet(hostile), today=TODAY) is None
    assert care_date_from_metadata({}, xmp_packet(b"<x:xmpmeta><broken"), today=TODAY) is None


def test_pdf_metadata_wins_over_the_first_page_and_says_its_source():
    stated = care_date_of_pdf(
        first_page_text="Date de l'examen : 01/02/2024", info={"CareDate": "2024-03-12"}, xmp=None, today=TODAY
    )
    assert stated is not None
    assert (stated.day, stated.source) == (date(2024, 3, 12), "pdf_metadata")
    stated = care_date_of_pdf(first_page_text="Date de l'examen : 01/02/2024", info={}, xmp=None, today=TODAY)
    assert stated is not None
    assert (stated.day, stated.source) == (date(2024, 2, 1), "text")
    assert care_date_of_pdf(first_page_text="Né le 01/02/1950", info={}, xmp=None, today=TODAY) is None
