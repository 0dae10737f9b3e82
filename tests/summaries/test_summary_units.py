"""The summary compares results in their test's unit: trends, conflicts and charts use the
normalised values, the latest line keeps what the source wrote, and a result in a unit that
cannot be compared stands in its own series and says why."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.urls import reverse

from apps.clinical.models import ClinicalFact
from apps.clinical.units import fact_units_fill
from apps.summaries.builder import record_summary
from apps.summaries.presentation import results_for_display
from tests.factories import DocumentFactory

LOINC = "http://loinc.org"
GLUCOSE = "2345-7"
MARCH, JUNE = date(2024, 3, 1), date(2024, 6, 1)


def result(record, document, **fields) -> ClinicalFact:
    """A stored result, normalised as the import and the declared measurements store it."""
    defaults = {"kind": "observation", "display": "Glucose", "code_system": LOINC, "code": GLUCOSE}
    fact = fact_units_fill(ClinicalFact(record=record, source_document=document, **{**defaults, **fields}))
    fact.save()
    return fact


def glucose_series(summary):
    return [s for s in summary.results if s.code == GLUCOSE]


def test_a_rise_from_mg_per_dl_to_mmol_per_l_is_a_rise(alice, alice_record):
    document = DocumentFactory(record=alice_record)
    result(alice_record, document, value_decimal=Decimal(126), unit="mg/dL", effective_date=MARCH)
    result(alice_record, document, value_decimal=Decimal("7.5"), unit="mmol/L", effective_date=JUNE)
    (series,) = glucose_series(record_summary(actor=alice, record=alice_record))
    assert series.trend == "up"
    assert (series.latest.value, series.latest.unit) == ("7.5", "mmol/L")
    assert series.unit == "mmol/L"
    assert series.points == [(MARCH, Decimal("6.993939")), (JUNE, Decimal("7.5"))]


def test_the_latest_line_keeps_the_unit_its_source_wrote(alice, alice_record):
    document = DocumentFactory(record=alice_record)
    result(alice_record, document, value_decimal=Decimal("7.5"), unit="mmol/L", effective_date=MARCH)
    result(alice_record, document, value_decimal=Decimal(110), unit="mg/dL", effective_date=JUNE)
    (series,) = glucose_series(record_summary(actor=alice, record=alice_record))
    assert (series.latest.value, series.latest.unit, series.unit) == ("110", "mg/dL", "mmol/L")
    assert series.trend == "down"  # 7.5 → 6.1 mmol/L
    assert series.converted


def test_weight_in_pounds_then_kilograms_is_one_trend_in_kilograms(alice, alice_record):
    document = DocumentFactory(record=alice_record)
    weight = {"display": "Weight", "code": "29463-7"}
    result(alice_record, document, **weight, value_decimal=Decimal(160), unit="[lb_av]", effective_date=MARCH)
    result(alice_record, document, **weight, value_decimal=Decimal(70), unit="kg", effective_date=JUNE)
    (series,) = [s for s in record_summary(actor=alice, record=alice_record).results if s.code == "29463-7"]
    assert series.points == [(MARCH, Decimal("72.574779")), (JUNE, Decimal("70"))]
    assert series.trend == "down"


def test_the_same_value_in_two_units_on_one_day_is_not_a_conflict(alice, alice_record):
    lab = DocumentFactory(record=alice_record, title="Lab")
    letter = DocumentFactory(record=alice_record, title="Letter")
    result(alice_record, lab, value_decimal=Decimal(126), unit="mg/dL", effective_date=JUNE)
    result(alice_record, letter, value_decimal=Decimal("6.99"), unit="mmol/L", effective_date=JUNE)
    (series,) = glucose_series(record_summary(actor=alice, record=alice_record))
    assert series.latest.conflict == []
    assert [source.title for source in series.latest.sources] == ["Lab", "Letter"]
    assert len(series.points) == 1


def test_different_values_in_two_units_on_one_day_are_a_conflict(alice, alice_record):
    lab, letter = DocumentFactory(record=alice_record), DocumentFactory(record=alice_record)
    result(alice_record, lab, value_decimal=Decimal(126), unit="mg/dL", effective_date=JUNE)
    result(alice_record, letter, value_decimal=Decimal("7.5"), unit="mmol/L", effective_date=JUNE)
    (series,) = glucose_series(record_summary(actor=alice, record=alice_record))
    assert series.latest.conflict == ["126 mg/dL", "7.5 mmol/L"]


def test_an_unconvertible_unit_starts_a_separate_series_that_says_so(alice, alice_record):
    document = DocumentFactory(record=alice_record)
    result(alice_record, document, value_decimal=Decimal(100), unit="mg/dL", effective_date=MARCH)
    result(alice_record, document, value_decimal=Decimal(110), unit="mg/dL", effective_date=JUNE)
    result(alice_record, document, value_decimal=Decimal(5), unit="mg", effective_date=date(2024, 7, 1))
    main, separate = sorted(glucose_series(record_summary(actor=alice, record=alice_record)), key=lambda s: s.unit_flag)
    assert (main.unit, main.trend, len(main.points), main.unit_note) == ("mmol/L", "up", 2, "")
    assert (separate.unit, separate.unit_flag, separate.trend) == ("mg", "unconvertible", "")
    assert separate.unit_note == "Measured in another unit (mg): not compared with the others."


def test_an_implausible_value_is_kept_flagged_and_out_of_the_trend(alice, alice_record):
    document = DocumentFactory(record=alice_record)
    result(alice_record, document, value_decimal=Decimal("6.0"), unit="mmol/L", effective_date=MARCH)
    result(alice_record, document, value_decimal=Decimal("5.0"), unit="mmol/L", effective_date=JUNE)
    result(alice_record, document, value_decimal=Decimal(1260), unit="mmol/L", effective_date=date(2024, 7, 1))
    result(alice_record, document, value_decimal=Decimal(1300), unit="mmol/L", effective_date=date(2024, 8, 1))
    main, odd = sorted(glucose_series(record_summary(actor=alice, record=alice_record)), key=lambda s: s.unit_flag)
    assert (main.trend, [value for _day, value in main.points]) == ("down", [Decimal("6.0"), Decimal("5.0")])
    assert (odd.unit_flag, odd.latest.value, odd.points, odd.trend) == ("implausible", "1300", [], "")
    assert "left out of the trend" in odd.unit_note


def test_the_page_says_why_a_series_stands_apart(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record)
    result(alice_record, document, value_decimal=Decimal(110), unit="mg/dL", effective_date=MARCH)
    result(alice_record, document, value_decimal=Decimal(5), unit="bidules/L", effective_date=JUNE)
    page = as_user(alice).get(reverse("record_detail", args=[alice_record.uuid])).content.decode()
    assert "Unit not recognised (bidules/L): not compared with the others." in page


def test_the_chart_band_is_the_reference_range_in_the_series_unit(alice, alice_record):
    document = DocumentFactory(record=alice_record)
    result(alice_record, document, value_decimal=Decimal("5.2"), unit="mmol/L", effective_date=MARCH)
    result(
        alice_record,
        document,
        value_decimal=Decimal(126),
        unit="mg/dL",
        reference_low=Decimal(70),
        reference_high=Decimal(110),
        effective_date=JUNE,
    )
    summary = record_summary(actor=alice, record=alice_record)
    (series,) = glucose_series(summary)
    assert (series.reference_low, series.reference_high) == (Decimal(70), Decimal(110))  # as the source gave it
    assert series.out_of_range  # 126 > 110 mg/dL
    assert (series.chart_low, series.chart_high) == (Decimal("3.885521"), Decimal("6.105819"))
    ((_series, chart),) = results_for_display(summary)
    assert "6.99 mmol/L" in chart


def test_a_test_without_an_entry_is_compared_in_the_unit_of_its_latest_result(alice, alice_record):
    document = DocumentFactory(record=alice_record)
    other = {"display": "Something rare", "code": "99999-9"}
    result(alice_record, document, **other, value_decimal=Decimal(1500), unit="mg/L", effective_date=MARCH)
    result(alice_record, document, **other, value_decimal=Decimal(3), unit="mmol/L", effective_date=date(2024, 4, 1))
    result(alice_record, document, **other, value_decimal=Decimal("1.2"), unit="g/L", effective_date=JUNE)
    (series,) = [s for s in record_summary(actor=alice, record=alice_record).results if s.code == "99999-9"]
    assert series.points == [(MARCH, Decimal("1.5")), (JUNE, Decimal("1.2"))]  # mmol/L: no molar mass, left out
    assert (series.unit, series.trend) == ("g/L", "down")


def test_api_summary_gives_each_point_in_the_series_unit(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record)
    result(alice_record, document, value_decimal=Decimal(126), unit="mg/dL", effective_date=MARCH)
    result(alice_record, document, value_decimal=Decimal("7.5"), unit="mmol/L", effective_date=JUNE)
    result(alice_record, document, value_decimal=Decimal(5), unit="mg", effective_date=JUNE)
    body = as_user(alice).get(f"/api/v1/records/{alice_record.uuid}/summary/").json()
    main, separate = sorted((s for s in body["results"] if s["code"] == GLUCOSE), key=lambda s: s["unit_flag"])
    assert main["points"] == [
        {"date": "2024-03-01", "value": "6.993939", "unit": "mmol/L"},
        {"date": "2024-06-01", "value": "7.500000", "unit": "mmol/L"},
    ]
    assert (main["trend"], main["unit"], main["latest"]["unit"]) == ("up", "mmol/L", "mmol/L")
    assert (separate["unit_flag"], separate["unit"]) == ("unconvertible", "mg")
    assert separate["unit_note"] == "Measured in another unit (mg): not compared with the others."
