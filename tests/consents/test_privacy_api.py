from __future__ import annotations

import pytest

from apps.consents.models import SettingChange


def base(record) -> str:
    return f"/api/v1/records/{record.uuid}"


def test_api_reads_and_changes_settings_with_history(as_user, alice, alice_record):
    client = as_user(alice)
    settings = client.get(f"{base(alice_record)}/privacy/").json()
    assert settings["professional_access"] is True
    assert "does_not" in settings["explanations"]["emergency_access"]
    changed = client.patch(
        f"{base(alice_record)}/privacy/", {"emergency_access": False}, content_type="application/json"
    )
    assert changed.json()["emergency_access"] is False
    history = client.get(f"{base(alice_record)}/privacy/history/").json()
    assert [(h["key"], h["before"], h["after"]) for h in history] == [("emergency_access", True, False)]


def test_api_blocks_and_unblocks_a_professional(as_user, alice, alice_record, dr_martin):
    client = as_user(alice)
    blocked = client.post(
        f"{base(alice_record)}/blocked-professionals/",
        {"professional": str(dr_martin.uuid), "blocked": True},
        content_type="application/json",
    )
    assert [p["id"] for p in blocked.json()] == [str(dr_martin.uuid)]
    client.post(
        f"{base(alice_record)}/blocked-professionals/",
        {"professional": str(dr_martin.uuid), "blocked": False},
        content_type="application/json",
    )
    assert client.get(f"{base(alice_record)}/blocked-professionals/").json() == []
    assert SettingChange.objects.filter(key="blocked_professional").count() == 2


def test_api_refuses_to_block_someone_who_is_not_a_professional(as_user, alice, alice_record, charlie):
    response = as_user(alice).post(
        f"{base(alice_record)}/blocked-professionals/",
        {"professional": str(charlie.uuid)},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not SettingChange.objects.exists()


def test_api_designates_and_removes_a_doctor(as_user, alice, alice_record, dr_martin):
    client = as_user(alice)
    url = f"{base(alice_record)}/designated-doctor/"
    put = client.put(url, {"professional": str(dr_martin.uuid)}, content_type="application/json")
    assert put.json()["professional"]["id"] == str(dr_martin.uuid)
    assert client.get(url).json()["professional"]["display_name"] == "Dr Claire Martin"
    client.put(url, {"professional": None}, content_type="application/json")
    assert client.get(url).json() == {"professional": None}


def test_api_access_codes_create_list_revoke(as_user, alice, alice_record):
    client = as_user(alice)
    created = client.post(f"{base(alice_record)}/access-codes/", {"hours": 2}, content_type="application/json")
    assert created.status_code == 201
    assert len(created.json()["code"]) == 9
    listed = client.get(f"{base(alice_record)}/access-codes/").json()
    assert [c["id"] for c in listed] == [created.json()["id"]]
    assert "code" not in listed[0]  # never shown again
    revoked = client.post(f"/api/v1/access-codes/{created.json()['id']}/revoke/")
    assert revoked.json()["revoked_at"] is not None


def test_api_refuses_a_code_longer_than_a_week(as_user, alice, alice_record):
    response = as_user(alice).post(
        f"{base(alice_record)}/access-codes/", {"hours": 500}, content_type="application/json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path", ["privacy/", "privacy/history/", "blocked-professionals/", "designated-doctor/", "access-codes/"]
)
@pytest.mark.parametrize("persona", ["charlie", "dr_martin", "sam"])
def test_api_privacy_endpoints_refuse_others(request, as_user, alice_record, path, persona):
    actor = request.getfixturevalue(persona)
    assert as_user(actor).get(f"{base(alice_record)}/{path}").status_code == 404
