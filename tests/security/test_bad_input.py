"""Breach 12: bad input gets a 400 that names the field, never a 500; and nothing is written."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing.websocket import WebsocketCommunicator
from django.urls import reverse

from apps.access.models import AccessCode
from apps.clinical.models import ClinicalFact
from apps.consents.services import privacy_state
from tests.conftest import logged_in_client

pytestmark = pytest.mark.django_db


def _json(client, method: str, url: str, body) -> object:
    return getattr(client, method)(url, body, content_type="application/json")


def test_a_notification_cursor_that_is_not_an_id_is_a_400_with_the_field(alice):
    answer = logged_in_client(alice).get(reverse("api_notifications"), {"before": "not-a-uuid"})

    assert answer.status_code == 400
    assert "before" in answer.json()


def test_a_notification_page_link_that_is_not_an_id_is_a_400_on_the_web(alice):
    answer = logged_in_client(alice).get(reverse("notification_centre"), {"before": "not-a-uuid"})

    assert answer.status_code == 400
    assert b"This page link is not valid" in answer.content


def test_marking_a_notification_read_with_a_bad_id_is_a_400_on_the_web(alice):
    answer = logged_in_client(alice).post(reverse("notifications_mark_read"), {"notification": "x"})

    assert answer.status_code == 400


@pytest.mark.parametrize("value", ["1e1000000", "-1e1000000", "1e-1000000"])
def test_a_declared_measure_of_an_absurd_size_is_a_400_on_the_value(alice, alice_record, value):
    answer = _json(
        logged_in_client(alice),
        "post",
        reverse("api_profile_facts", args=[alice_record.uuid]),
        {"kind": "observation", "code": "29463-7", "value": value, "unit": "kg"},
    )

    assert answer.status_code == 400
    assert "value" in answer.json()
    assert not ClinicalFact.objects.filter(record=alice_record).exists()


def test_a_declared_measure_of_an_absurd_size_is_refused_on_the_web_form(alice, alice_record):
    client = logged_in_client(alice)
    answer = client.post(
        reverse("profile_declare", args=[alice_record.uuid, "observation"]),
        {"observation-code": "29463-7", "observation-value": "1e1000000", "observation-unit": "kg"},
    )

    assert answer.status_code == 400
    assert b"this value is not possible" in answer.content
    assert not ClinicalFact.objects.filter(record=alice_record).exists()


def test_a_json_body_ten_thousand_levels_deep_is_a_400(alice, alice_record):
    deep = "[" * 10_000 + "]" * 10_000
    answer = logged_in_client(alice).patch(
        reverse("api_privacy", args=[alice_record.uuid]), deep, content_type="application/json"
    )

    assert answer.status_code == 400
    assert "detail" in answer.json()


def test_an_access_code_of_1e400_hours_is_a_400_on_hours(alice, alice_record):
    answer = logged_in_client(alice).post(
        reverse("api_access_codes", args=[alice_record.uuid]), '{"hours": 1e400}', content_type="application/json"
    )

    assert answer.status_code == 400
    assert "hours" in answer.json()
    assert not AccessCode.objects.exists()


@pytest.mark.parametrize("hours", [0, 169, "ten", None])
def test_an_access_code_of_impossible_hours_is_a_400_on_hours(alice, alice_record, hours):
    answer = _json(
        logged_in_client(alice), "post", reverse("api_access_codes", args=[alice_record.uuid]), {"hours": hours}
    )

    assert answer.status_code == 400
    assert "hours" in answer.json()
    assert not AccessCode.objects.exists()


@pytest.mark.parametrize(
    ("method", "name", "body"),
    [
        ("post", "api_blocked", {"professional": "dr-martin", "blocked": True}),
        ("post", "api_blocked", {"professional": 42}),
        ("put", "api_designated_doctor", {"professional": "dr-martin"}),
        ("put", "api_designated_doctor", {"professional": ["x"]}),
    ],
)
def test_a_professional_that_is_not_an_id_is_a_400_in_the_api(alice, alice_record, method, name, body):
    answer = _json(logged_in_client(alice), method, reverse(name, args=[alice_record.uuid]), body)

    assert answer.status_code == 400
    assert "professional" in answer.json()
    state = privacy_state(record=alice_record)
    assert not state.blocked
    assert not state.designated_doctor


@pytest.mark.parametrize("name", ["privacy_block", "privacy_designate"])
def test_a_professional_that_is_not_an_id_is_a_400_on_the_web(alice, alice_record, name):
    answer = logged_in_client(alice).post(reverse(name, args=[alice_record.uuid]), {"professional": "dr-martin"})

    assert answer.status_code == 400
    assert b"Enter a valid UUID" in answer.content
    state = privacy_state(record=alice_record)
    assert not state.blocked
    assert not state.designated_doctor


def test_a_string_false_unblocks_the_professional(alice, alice_record, dr_martin):
    client = logged_in_client(alice)
    url = reverse("api_blocked", args=[alice_record.uuid])
    _json(client, "post", url, {"professional": str(dr_martin.uuid), "blocked": True})
    assert str(dr_martin.uuid) in privacy_state(record=alice_record).blocked

    answer = _json(client, "post", url, {"professional": str(dr_martin.uuid), "blocked": "false"})

    assert answer.status_code == 200
    assert str(dr_martin.uuid) not in privacy_state(record=alice_record).blocked


def test_a_blocked_flag_that_is_not_a_boolean_is_a_400(alice, alice_record, dr_martin):
    answer = _json(
        logged_in_client(alice),
        "post",
        reverse("api_blocked", args=[alice_record.uuid]),
        {"professional": str(dr_martin.uuid), "blocked": "maybe"},
    )

    assert answer.status_code == 400
    assert "blocked" in answer.json()
    assert not privacy_state(record=alice_record).blocked


@pytest.mark.parametrize(
    ("name", "needs_record"),
    [("api_delegation_accept", False), ("api_notifications_read", False), ("api_blocked", True)],
)
def test_a_json_list_where_an_object_is_expected_is_a_400(alice, alice_record, name, needs_record):
    url = reverse(name, args=[alice_record.uuid]) if needs_record else reverse(name)
    answer = _json(logged_in_client(alice), "post", url, ["token", "ids"])

    assert answer.status_code == 400


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ws/records/not-a-uuid/", "/ws/records/1/", "/ws/nowhere/"])
def test_a_websocket_path_that_is_not_a_route_is_closed_cleanly(settings, path):
    from healthspace.asgi import application

    settings.ALLOWED_HOSTS = ["testserver"]

    async def scenario():
        communicator = WebsocketCommunicator(application, path, headers=[(b"origin", b"http://testserver")])
        connected, _code = await communicator.connect()
        await communicator.wait()
        return connected

    assert async_to_sync(scenario)() is False


def test_a_form_encoded_patch_of_one_setting_leaves_the_others_alone(alice, alice_record):
    client = logged_in_client(alice)
    url = reverse("api_privacy", args=[alice_record.uuid])
    before = privacy_state(record=alice_record)

    answer = client.patch(url, "research_use=true", content_type="application/x-www-form-urlencoded")

    assert answer.status_code == 200
    after = privacy_state(record=alice_record)
    assert after.research_use is True
    assert (after.professional_access, after.emergency_access) == (before.professional_access, before.emergency_access)


def test_a_form_encoded_rename_does_not_unhide_a_document(alice, alice_record):
    from tests.factories import DocumentFactory

    document = DocumentFactory(record=alice_record, masked=True)
    answer = logged_in_client(alice).patch(
        reverse("api_document", args=[document.uuid]), "title=Renamed", content_type="application/x-www-form-urlencoded"
    )

    assert answer.status_code == 200
    document.refresh_from_db()
    assert (document.title, document.masked) == ("Renamed", True)


def test_an_api_request_with_too_many_fields_is_a_json_400(alice):
    client = logged_in_client(alice)
    fields = {f"field{n}": "x" for n in range(1001)}  # above DATA_UPLOAD_MAX_NUMBER_FIELDS

    response = client.post("/api/v1/notifications/read/", fields)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The request could not be read."}


def test_a_page_request_with_too_many_fields_keeps_the_web_error_page(alice):
    client = logged_in_client(alice)

    fields = {f"field{n}": "x" for n in range(1001)}

    response = client.post(reverse("notifications_mark_read"), fields)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
