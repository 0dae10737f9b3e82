"""One identity matcher (apps/records/identity.py): exact match only, never browsing."""

from datetime import date

import pytest

from apps.records.identity import fold, normalise_ins, record_matching
from tests.factories import RecordFactory

pytestmark = pytest.mark.django_db

BORN = date(1962, 5, 14)


def test_fold_ignores_accents_case_hyphens_and_spaces():
    assert fold("  Lefèvre-Durand ") == fold("LEFEVRE   durand") == "lefevre durand"


def test_ins_is_normalised_as_stored():
    assert normalise_ins(" 2 79 03 2A 215 189 89 ") == "279032A21518989"


def test_ins_finds_the_record_written_with_spaces_and_lower_case():
    record = RecordFactory(ins="279032A21518989")
    assert record_matching(ins="279032a 215 189 89") == record


def test_traits_find_the_record_across_accents_case_and_later_given_names():
    record = RecordFactory(family_name="Lefèvre", given_names="Élodie Marie", birth_date=BORN)
    assert record_matching(family_name="LEFEVRE", given_name="elodie", birth_date=BORN) == record


def test_with_an_ins_the_traits_are_not_looked_at():
    RecordFactory(family_name="Lefèvre", given_names="Élodie", birth_date=BORN, ins="279035121518989")
    assert record_matching(ins="179035121518989", family_name="Lefèvre", given_name="Élodie", birth_date=BORN) is None


@pytest.mark.parametrize(
    "identity",
    [
        {"family_name": "Lefèvre", "given_name": "Élodie"},
        {"family_name": "Lefèvre", "birth_date": BORN},
        {"given_name": "Élodie", "birth_date": BORN},
        {},
    ],
)
def test_a_partial_identity_finds_nothing(identity):
    RecordFactory(family_name="Lefèvre", given_names="Élodie", birth_date=BORN)
    assert record_matching(**identity) is None


def test_an_ambiguous_identity_finds_nothing():
    RecordFactory(family_name="Lefèvre", given_names="Élodie", birth_date=BORN)
    RecordFactory(family_name="Lefevre", given_names="Elodie Anne", birth_date=BORN)
    assert record_matching(family_name="Lefèvre", given_name="Élodie", birth_date=BORN) is None


def test_another_birth_date_finds_nothing():
    RecordFactory(family_name="Lefèvre", given_names="Élodie", birth_date=BORN)
    assert record_matching(family_name="Lefèvre", given_name="Élodie", birth_date=date(1962, 5, 15)) is None
