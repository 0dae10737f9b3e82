"""Results converted to their test's unit with a UCUM library: the right numbers, and what cannot
be converted kept in a series of its own, flagged, never guessed."""

from __future__ import annotations

import importlib
import json
from decimal import Decimal

import pytest
from django.apps import apps as django_apps

from apps.clinical.models import ClinicalFact, thing_key_for
from apps.clinical.parsing import ParsedDocument, ParsedFact, PatientIdentity
from apps.clinical.services import facts_from_parsed
from apps.clinical.units import DATA_FILE, NO_UNIT, UnitFlag, convert, normalize, ucum_unit
from tests.factories import DocumentFactory

LOINC = "http://loinc.org"
GLUCOSE, CHOLESTEROL, LDL, WEIGHT, HEIGHT, TEMPERATURE, HBA1C = (
    "2345-7",
    "2093-3",
    "13457-7",
    "29463-7",
    "8302-2",
    "8310-5",
    "4548-4",
)


def norm(code: str, value: str, unit: str, system: str = LOINC):
    return normalize(code_system=system, code=code, value=Decimal(value), unit=unit)


def test_glucose_in_mg_per_dl_is_converted_to_mmol_per_l_through_its_molar_mass():
    result = norm(GLUCOSE, "126", "mg/dL")
    assert result.value_normalized == Decimal("6.993939")  # 126 × 10 / 180.156
    assert result.unit_normalized == "mmol/L"
    assert (result.series_unit, result.unit_flag) == ("", "")


def test_glucose_in_mmol_per_l_stays_as_written():
    result = norm(GLUCOSE, "7.5", "mmol/L")
    assert (result.value_normalized, result.unit_normalized, result.series_unit) == (Decimal("7.5"), "mmol/L", "")


def test_cholesterol_in_mg_per_dl_and_g_per_l_give_the_same_mmol_per_l():
    assert norm(CHOLESTEROL, "200", "mg/dL").value_normalized == Decimal("5.172637")  # 200 × 10 / 386.65
    assert norm(CHOLESTEROL, "2.00", "g/L").value_normalized == Decimal("5.172637")
    assert norm(LDL, "1.3", "g/l").value_normalized == Decimal("3.362214")


def test_the_cda_oid_of_loinc_is_the_same_code_system():
    assert norm(GLUCOSE, "126", "mg/dL", system="2.16.840.1.113883.6.1").unit_normalized == "mmol/L"


def test_weight_in_pounds_is_converted_to_kilograms():
    result = norm(WEIGHT, "154", "[lb_av]")
    assert result.value_normalized == Decimal("69.853225")  # 154 × 0.45359237
    assert result.unit_normalized == "kg"
    assert norm(WEIGHT, "154", "lbs").value_normalized == Decimal("69.853225")


def test_height_in_inches_and_temperature_in_fahrenheit_are_converted():
    assert norm(HEIGHT, "70", "[in_i]").value_normalized == Decimal("177.8")
    assert norm(TEMPERATURE, "98.6", "[degF]").value_normalized == Decimal("37")
    assert norm(TEMPERATURE, "98.6", "°F").unit_normalized == "Cel"


@pytest.mark.parametrize(
    ("written", "ucum"),
    [
        ("mmHg", "mm[Hg]"),
        ("mm[Hg]", "mm[Hg]"),
        ("µmol/L", "umol/L"),
        ("μmol/l", "umol/L"),
        ("G/L", "10*9/L"),
        ("x10^9/L", "10*9/L"),
        ("UI/L", "[IU]/L"),
        ("mUI/L", "m[IU]/L"),
        ("°C", "Cel"),
        ("ml/min/1,73m²", "mL/min/{1.73_m2}"),
        ("%", "%"),
        ("/mm3", "/mm3"),
    ],
)
def test_units_as_sources_write_them_are_read_as_ucum(written, ucum):
    assert ucum_unit(written) == ucum


def test_leukocytes_per_mm3_and_giga_per_litre_are_one_series():
    assert norm("6690-2", "7000", "/mm3").value_normalized == Decimal("7")
    assert norm("6690-2", "7.2", "G/L").value_normalized == Decimal("7.2")
    assert norm("6690-2", "7.2", "G/L").unit_normalized == "10*9/L"


def test_calcium_in_milliequivalents_counts_its_two_charges():
    assert norm("17861-6", "4.8", "mEq/L").value_normalized == Decimal("2.4")


def test_an_enzyme_in_international_units_is_its_unit_of_activity():
    result = norm("1742-6", "30", "UI/L")
    assert (result.value_normalized, result.unit_normalized, result.unit_flag) == (Decimal("30"), "U/L", "")


def test_a_unit_of_another_dimension_starts_a_separate_series():
    result = norm(GLUCOSE, "5", "mg")  # a mass, not a concentration
    assert result.unit_flag == UnitFlag.UNCONVERTIBLE
    assert result.series_unit == "mg"
    assert result.value_normalized == Decimal("5")  # kept as written


def test_hba1c_in_mmol_per_mol_is_another_measurand_not_a_percentage():
    result = norm(HBA1C, "53", "mmol/mol")
    assert (result.unit_flag, result.series_unit, result.value_normalized) == (
        UnitFlag.UNCONVERTIBLE,
        "mmol/mol",
        Decimal("53"),
    )


def test_an_implausible_value_for_the_test_is_kept_flagged_in_its_own_series():
    result = norm(WEIGHT, "70000", "kg")  # grams written as kilograms
    assert result.unit_flag == UnitFlag.IMPLAUSIBLE
    assert result.series_unit == "kg"
    assert result.value_normalized == Decimal("70000")


def test_fahrenheit_written_as_celsius_is_implausible():
    assert norm(TEMPERATURE, "98.6", "Cel").unit_flag == UnitFlag.IMPLAUSIBLE


def test_an_unknown_unit_string_is_kept_in_its_own_series():
    result = norm(GLUCOSE, "5", "bidules/L")
    assert result.unit_flag == UnitFlag.UNKNOWN_UNIT
    assert (result.series_unit, result.unit_normalized, result.value_normalized) == (
        "bidules/L",
        "bidules/L",
        Decimal("5"),
    )


def test_a_known_test_without_unit_is_not_compared_with_the_others():
    result = norm(GLUCOSE, "5", "")
    assert (result.unit_flag, result.series_unit) == (UnitFlag.UNKNOWN_UNIT, NO_UNIT)


def test_a_test_without_an_entry_keeps_its_unit_as_ucum_writes_it():
    result = norm("99999-9", "12", "mg/dl")
    assert (result.value_normalized, result.unit_normalized, result.series_unit, result.unit_flag) == (
        Decimal("12"),
        "mg/dL",
        "",
        "",
    )


def test_a_result_in_words_is_never_a_series_of_its_own():
    result = normalize(code_system=LOINC, code=GLUCOSE, value=None, unit="bidules")
    assert (result.value_normalized, result.series_unit, result.unit_flag) == (None, "", "")


def test_convert_between_units_of_one_dimension_without_a_test():
    assert convert(Decimal("1.5"), "g/L", "mg/dL") == Decimal("150")
    assert convert(Decimal("1.5"), "g/L", "mmol/L") is None  # no molar mass without the test


def test_every_analyte_unit_is_read_by_the_library():
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    assert data["version"]
    assert data["source"]
    unread = [name for name, entry in data["analytes"].items() if ucum_unit(entry["unit"]) != entry["unit"]]
    assert unread == []


def parsed(*facts: ParsedFact) -> ParsedDocument:
    return ParsedDocument(format="fhir", patient=PatientIdentity(), facts=list(facts))


def test_imported_results_are_stored_with_their_normalised_value_and_series(alice_record):
    document = DocumentFactory(record=alice_record)
    glucose = ParsedFact(
        kind="observation", display="Glucose", code_system=LOINC, code=GLUCOSE, value_decimal=Decimal(126), unit="mg/dL"
    )
    odd = ParsedFact(
        kind="observation", display="Glucose", code_system=LOINC, code=GLUCOSE, value_decimal=Decimal(5), unit="mg"
    )
    stored = {f.unit: f for f in facts_from_parsed(document=document, parsed=parsed(glucose, odd))}
    converted = ClinicalFact.objects.get(pk=stored["mg/dL"].pk)
    assert (converted.value_normalized, converted.unit_normalized) == (Decimal("6.993939"), "mmol/L")
    assert converted.thing_key == f"{LOINC}|{GLUCOSE}"
    separate = ClinicalFact.objects.get(pk=stored["mg"].pk)
    assert (separate.series_unit, separate.unit_flag) == ("mg", "unconvertible")
    assert separate.thing_key == f"{LOINC}|{GLUCOSE}|unit:mg"


def test_a_declared_measurement_is_stored_normalised(alice, alice_record):
    from apps.clinical.profile import fact_declare

    fact = fact_declare(
        actor=alice, record=alice_record, kind="observation", display="", code="2339-0", value="126", unit="mg/dL"
    )
    fact.refresh_from_db()
    assert (fact.value_normalized, fact.unit_normalized, fact.series_unit) == (Decimal("6.993939"), "mmol/L", "")


def test_the_migration_fills_existing_rows_and_their_thing_keys(alice_record):
    document = DocumentFactory(record=alice_record)
    common = {"record": alice_record, "source_document": document, "kind": "observation", "display": "Glucose"}
    common |= {"code_system": LOINC, "code": GLUCOSE}
    old = ClinicalFact.objects.create(**common, value_decimal=Decimal(126), unit="mg/dL")
    odd = ClinicalFact.objects.create(**common, value_decimal=Decimal(5), unit="mg")
    allergy = ClinicalFact.objects.create(
        record=alice_record, kind="allergy", display="Penicillin", code_system="", code=""
    )
    assert old.value_normalized is None
    assert odd.thing_key == f"{LOINC}|{GLUCOSE}"

    migration = importlib.import_module("apps.clinical.migrations.0006_normalize_units")
    migration.normalize_units(django_apps, None)

    old.refresh_from_db()
    odd.refresh_from_db()
    allergy.refresh_from_db()
    assert (old.value_normalized, old.unit_normalized, old.series_unit) == (Decimal("6.993939"), "mmol/L", "")
    assert (odd.series_unit, odd.unit_flag) == ("mg", "unconvertible")
    assert odd.thing_key == thing_key_for(LOINC, GLUCOSE, "Glucose", "mg") == f"{LOINC}|{GLUCOSE}|unit:mg"
    assert (allergy.value_normalized, allergy.unit_normalized, allergy.thing_key) == (None, "", "text|penicillin")
