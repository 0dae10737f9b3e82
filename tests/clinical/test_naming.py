"""Names a person reads, and values in the reader's conventions (apps/clinical/naming.py)."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from apps.clinical.naming import DATA, display_name, format_number, value_label

LOINC = "http://loinc.org"
FREE_T4_SOURCE = "Thyroxine libre [Masse/Volume] Sérum/Plasma ; Numérique"


def test_a_french_reader_reads_the_short_french_name_of_a_known_test():
    assert display_name(code_system=LOINC, code="3024-7", display=FREE_T4_SOURCE, language="fr") == "T4 libre"


def test_an_english_reader_reads_the_short_english_name_of_the_same_test():
    assert display_name(code_system=LOINC, code="3024-7", display=FREE_T4_SOURCE, language="en") == "Free T4"


def test_a_regional_language_code_reads_as_its_language():
    assert display_name(code_system=LOINC, code="3024-7", display=FREE_T4_SOURCE, language="en-gb") == "Free T4"


def test_vital_signs_are_named_in_french_for_a_french_reader():
    names = [
        display_name(code_system=LOINC, code=code, display=english, language="fr")
        for code, english in (("8302-2", "Body height"), ("8480-6", "BP Systolic"), ("8867-4", "Heart Rate"))
    ]
    assert names == ["Taille", "Pression artérielle systolique", "Fréquence cardiaque"]


def test_the_loinc_oid_is_read_like_the_loinc_uri():
    assert display_name(code_system="urn:oid:2.16.840.1.113883.6.1", code="8302-2", display="x", language="fr") == (
        "Taille"
    )


def test_an_unknown_code_keeps_the_source_text():
    assert display_name(code_system=LOINC, code="99999-9", display="Test maison", language="fr") == "Test maison"


def test_a_known_code_in_another_system_is_not_taken_for_loinc():
    assert display_name(code_system="http://snomed.info/sct", code="3024-7", display="Autre", language="fr") == "Autre"


def test_a_language_without_names_keeps_the_source_text():
    assert display_name(code_system=LOINC, code="3024-7", display=FREE_T4_SOURCE, language="de") == FREE_T4_SOURCE


def test_the_names_table_is_versioned_and_names_every_test_in_both_languages():
    data = json.loads(DATA.read_text(encoding="utf-8"))
    assert data["version"]
    assert data["source"]
    assert data["reviewed"]
    assert len(data["names"]) >= 120
    for code, names in data["names"].items():
        assert re.fullmatch(r"\d{1,6}-\d", code), code
        assert names["fr"].strip(), code
        assert names["en"].strip(), code


def test_the_names_table_covers_the_frequent_corpus_tests():
    names = json.loads(DATA.read_text(encoding="utf-8"))["names"]
    corpus_codes = {"8302-2", "29463-7", "39156-5", "8480-6", "8462-4", "72514-3", "718-7", "6690-2", "804-5"}
    corpus_codes |= {"2093-3", "18262-6", "2085-9", "2571-8", "3016-3", "3024-7", "8287-5", "17856-6", "3094-0"}
    assert corpus_codes <= set(names)


def test_a_french_reader_reads_a_decimal_comma():
    assert format_number(Decimal("170.2"), language="fr") == "170,2"


def test_an_english_reader_reads_a_decimal_point():
    assert format_number(Decimal("170.2"), language="en") == "170.2"


def test_the_same_value_stored_with_any_precision_reads_the_same():
    assert {format_number(Decimal(text), language="fr") for text in ("170.2", "170.20", "170.200000")} == {"170,2"}


def test_long_machine_decimals_are_rounded_for_reading():
    assert format_number(Decimal("80.6074283497955"), language="en") == "80.61"


def test_small_values_keep_their_significant_digits():
    assert format_number(Decimal("0.005"), language="fr") == "0,005"


def test_whole_numbers_have_no_exponent():
    assert format_number(Decimal("3.9E+3"), language="fr") == "3900"


def test_a_value_reads_with_its_unit():
    assert value_label(number=Decimal("7.67"), unit="pg/mL", language="fr") == "7,67 pg/mL"


def test_a_text_value_reads_as_written():
    assert value_label(number=None, text="Positive", language="fr") == "Positive"


def test_no_value_reads_as_nothing_for_the_caller_to_name():
    assert value_label(number=None, text="", unit="10*9/L", language="fr") == ""
