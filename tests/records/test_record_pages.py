from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.access.models import AccessEvent
from apps.records.models import Guardianship, Record
from tests.factories import GuardianshipFactory, RecordFactory


def test_home_lists_own_record_and_dependents(as_user, alice, alice_child):
    response = as_user(alice).get(reverse("home"))
    assert response.status_code == 200
    assert list(response.context["records"]) == [alice.own_record, alice_child]
    assert "Léo" in response.content.decode()


def test_home_journals_each_listed_record(as_user, alice, alice_child):
    as_user(alice).get(reverse("home"))
    events = AccessEvent.objects.filter(action="record.list", actor_uuid=alice.uuid)
    assert {e.record_uuid for e in events} == {alice.own_record.uuid, alice_child.uuid}


def test_home_shows_no_record_of_others(as_user, charlie, alice):
    response = as_user(charlie).get(reverse("home"))
    assert list(response.context["records"]) == [charlie.own_record]


def test_home_requires_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def _home_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("home")).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def test_home_runs_the_same_queries_for_3_and_300_records(as_user, alice):
    client = as_user(alice)
    for _ in range(2):
        GuardianshipFactory(guardian=alice, record=RecordFactory())
    client.get(reverse("home"))  # settle the session
    few = _home_queries(client)
    for _ in range(297):
        GuardianshipFactory(guardian=alice, record=RecordFactory())
    client.get(reverse("home"))  # the first listing creates each new record's journal chain head, once
    many = _home_queries(client)
    assert len(_without_journal_batches(many)) == len(_without_journal_batches(few))
    assert len(few) <= 16
    if connection.vendor == "postgresql":
        assert len(many) == len(few)  # the journal rows go in one INSERT


def _without_journal_batches(queries: list[str]) -> list[str]:
    # SQLite caps bound parameters at 999, so Django splits the journal's one bulk insert
    # (and the chain heads' one bulk update) into batches; every other query must not grow.
    batched = ('INSERT INTO "access_accessevent"', 'UPDATE "access_journalchainhead"')
    return [q for q in queries if not q.startswith(batched)]


def test_owner_opens_their_record_and_sees_why(as_user, alice, alice_record):
    response = as_user(alice).get(reverse("record_detail", args=[alice_record.uuid]))
    assert response.status_code == 200
    assert response.context["decision"].basis == "owner"


def test_parent_opens_the_child_record(as_user, alice, alice_child):
    response = as_user(alice).get(reverse("record_detail", args=[alice_child.uuid]))
    assert response.status_code == 200
    assert response.context["decision"].basis == "parent"


def test_stranger_gets_not_found_and_the_attempt_is_journaled(as_user, charlie, alice_record):
    response = as_user(charlie).get(reverse("record_detail", args=[alice_record.uuid]))
    assert response.status_code == 404
    event = AccessEvent.objects.order_by("-seq").first()
    assert (event.actor_uuid, event.record_uuid, event.outcome) == (charlie.uuid, alice_record.uuid, "denied")


def test_missing_record_looks_like_a_forbidden_one_and_is_journaled(as_user, charlie):
    import uuid

    missing = uuid.uuid4()
    response = as_user(charlie).get(reverse("record_detail", args=[missing]))
    assert response.status_code == 404
    event = AccessEvent.objects.order_by("-seq").first()
    assert (event.record_uuid, event.outcome, event.reason_code) == (missing, "denied", "no_such_record")


@pytest.mark.parametrize("persona", ["dr_martin", "sam", "olga"])
def test_professional_support_agent_and_operator_cannot_open_a_record(request, as_user, persona, alice_record):
    user = request.getfixturevalue(persona)
    response = as_user(user).get(reverse("record_detail", args=[alice_record.uuid]))
    assert response.status_code == 404
    assert AccessEvent.objects.filter(actor_uuid=user.uuid, outcome="denied").exists()


def test_parent_adds_a_child_record(as_user, alice):
    response = as_user(alice).post(
        reverse("dependent_add"),
        {"given_names": "Zoé", "family_name": "Martin", "birth_date": "2019-05-02", "sex": "F", "ins": ""},
    )
    child = Record.objects.get(given_names="Zoé")
    assert response.status_code == 302
    assert response["Location"] == reverse("record_detail", args=[child.uuid])
    assert Guardianship.objects.active().filter(guardian=alice, record=child).exists()
    assert AccessEvent.objects.filter(record_uuid=child.uuid, action="record.create", basis="parent").exists()


def test_child_with_future_birth_date_is_refused_and_nothing_created(as_user, alice):
    response = as_user(alice).post(
        reverse("dependent_add"),
        {"given_names": "Zoé", "family_name": "Martin", "birth_date": "2999-01-01", "sex": "F"},
    )
    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode() or "futur" in response.content.decode()
    assert not Record.objects.filter(given_names="Zoé").exists()


def test_child_with_malformed_ins_is_refused(as_user, alice):
    response = as_user(alice).post(
        reverse("dependent_add"),
        {"given_names": "Zoé", "family_name": "Martin", "birth_date": "2019-05-02", "sex": "F", "ins": "12345"},
    )
    assert response.status_code == 400
    assert "15" in response.context["form"].errors["ins"][0]
    assert not Record.objects.filter(given_names="Zoé").exists()


def test_child_with_an_ins_already_used_is_refused(as_user, alice, charlie):
    Record.objects.filter(pk=charlie.own_record.pk).update(ins="279035121518989")
    response = as_user(alice).post(
        reverse("dependent_add"),
        {
            "given_names": "Zoé",
            "family_name": "Martin",
            "birth_date": "2019-05-02",
            "sex": "F",
            "ins": "279035121518989",
        },
    )
    assert response.status_code == 400
    assert not Record.objects.filter(given_names="Zoé").exists()
    assert not Guardianship.objects.filter(guardian=alice, record__given_names="Zoé").exists()


def test_professional_cannot_add_a_child_record(as_user, dr_martin):
    response = as_user(dr_martin).post(
        reverse("dependent_add"),
        {"given_names": "Zoé", "family_name": "Martin", "birth_date": "2019-05-02", "sex": "F"},
    )
    assert response.status_code == 302
    assert not Record.objects.filter(given_names="Zoé").exists()
