from __future__ import annotations

import uuid

from django.urls import reverse

from apps.access.models import AccessEvent
from apps.records.models import Record


def test_api_lists_the_records_the_person_may_open(as_user, alice, alice_child):
    response = as_user(alice).get("/api/v1/records/")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()] == [str(alice.own_record.uuid), str(alice_child.uuid)]
    assert response.json()[0]["is_own"] is True


def test_api_requires_authentication(client, db):
    response = client.get("/api/v1/records/")
    assert response.status_code == 403


def test_api_record_detail_says_on_which_basis(as_user, alice, alice_child):
    response = as_user(alice).get(f"/api/v1/records/{alice_child.uuid}/")
    assert response.status_code == 200
    assert response.json()["access"]["basis"] == "parent"


def test_api_stranger_gets_404_and_is_journaled(as_user, charlie, alice_record):
    response = as_user(charlie).get(f"/api/v1/records/{alice_record.uuid}/")
    assert response.status_code == 404
    assert AccessEvent.objects.filter(actor_uuid=charlie.uuid, record_uuid=alice_record.uuid, outcome="denied").exists()


def test_api_missing_record_is_404(as_user, alice):
    assert as_user(alice).get(f"/api/v1/records/{uuid.uuid4()}/").status_code == 404


def test_api_creates_a_child_record(as_user, alice):
    response = as_user(alice).post(
        "/api/v1/records/",
        {"family_name": "Martin", "given_names": "Zoé", "birth_date": "2019-05-02", "sex": "F"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert Record.objects.get(uuid=response.json()["id"]).guardianships.filter(guardian=alice).exists()


def test_api_refuses_an_invalid_child_record_and_creates_nothing(as_user, alice):
    response = as_user(alice).post(
        "/api/v1/records/",
        {"family_name": "Martin", "given_names": "Zoé", "birth_date": "2999-01-01", "sex": "X"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"sex", "birth_date"}
    assert not Record.objects.filter(given_names="Zoé").exists()


def test_api_professional_cannot_create_a_child_record(as_user, dr_martin):
    response = as_user(dr_martin).post(
        "/api/v1/records/",
        {"family_name": "Martin", "given_names": "Zoé", "birth_date": "2019-05-02", "sex": "F"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Record.objects.filter(given_names="Zoé").exists()


def test_openapi_schema_describes_the_records_api(client, db):
    response = client.get(reverse("api_schema"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json() if response["Content-Type"].startswith("application/json") else None
    if schema is None:
        import yaml

        schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/records/", "/api/v1/records/{record_uuid}/", "/api/v1/me/", "/api/v1/auth/sign-ins/"} <= set(
        schema["paths"]
    )
