"""Privacy settings as history rows, their pages, and "who can see this document"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.access.models import AccessCode
from apps.access.refusals import RecordUnavailable
from apps.consents.models import SettingChange, SettingKey
from apps.consents.privacy.services import designated_doctor_set, professional_block, toggle_set
from apps.consents.services import privacy_state
from apps.records.documents import document_set_masked
from tests.factories import DocumentFactory


def test_each_change_is_a_new_row_and_the_state_is_derived(alice, alice_record):
    toggle_set(actor=alice, record=alice_record, key=SettingKey.PROFESSIONAL_ACCESS, on=False)
    toggle_set(actor=alice, record=alice_record, key=SettingKey.PROFESSIONAL_ACCESS, on=True)
    rows = list(SettingChange.objects.filter(record=alice_record).order_by("changed_at", "id"))
    assert [(r.before, r.after) for r in rows] == [(True, False), (False, True)]
    assert rows[0].changed_by == alice
    assert rows[0].through_basis == "owner"
    assert privacy_state(record=alice_record).professional_access is True


def test_two_tabs_last_write_wins_and_both_are_recorded(alice, alice_record):
    toggle_set(actor=alice, record=alice_record, key=SettingKey.RESEARCH_USE, on=False)  # tab 1
    toggle_set(actor=alice, record=alice_record, key=SettingKey.RESEARCH_USE, on=True)  # tab 2, later
    assert privacy_state(record=alice_record).research_use is True
    assert SettingChange.objects.filter(record=alice_record, key=SettingKey.RESEARCH_USE).count() == 2


def test_setting_the_same_value_writes_no_empty_row(alice, alice_record):
    assert toggle_set(actor=alice, record=alice_record, key=SettingKey.EMERGENCY_ACCESS, on=True) is None
    assert not SettingChange.objects.exists()


def test_history_cannot_be_rewritten(alice, alice_record):
    change = toggle_set(actor=alice, record=alice_record, key=SettingKey.EMERGENCY_ACCESS, on=False)
    with pytest.raises(RuntimeError):
        change.save()
    with pytest.raises(RuntimeError):
        SettingChange.objects.all().delete()


def test_parent_changes_a_childs_settings_and_it_says_through_whom(alice, alice_child):
    change = toggle_set(actor=alice, record=alice_child, key=SettingKey.EMERGENCY_ACCESS, on=False)
    assert change.through_basis == "parent"


@pytest.mark.parametrize("persona", ["charlie", "dr_martin", "sam", "olga"])
def test_only_the_person_and_their_proxies_change_settings(request, alice_record, persona):
    actor = request.getfixturevalue(persona)
    with pytest.raises(RecordUnavailable):
        toggle_set(actor=actor, record=alice_record, key=SettingKey.PROFESSIONAL_ACCESS, on=False)
    assert not SettingChange.objects.exists()


def test_masking_a_document_is_a_setting_with_history(alice, alice_record):
    document = DocumentFactory(record=alice_record)
    document_set_masked(actor=alice, document_uuid=document.uuid, masked=True)
    document.refresh_from_db()
    assert document.masked
    assert SettingChange.objects.get(key=SettingKey.MASKED_DOCUMENT).subject == str(document.uuid)


def test_privacy_page_shows_each_setting_with_its_explanation(as_user, alice, alice_record):
    page = as_user(alice).get(reverse("privacy_settings", args=[alice_record.uuid])).content.decode()
    for heading in ("Access by professionals", "Access in an emergency", "research", "designated doctor"):
        assert heading.lower() in page.lower()
    assert "What it does not do" in page


def test_privacy_page_toggles_blocks_and_designates(as_user, alice, alice_record, dr_martin):
    client = as_user(alice)
    client.post(reverse("privacy_toggle", args=[alice_record.uuid]), {"key": "professional_access", "on": "0"})
    client.post(reverse("privacy_block", args=[alice_record.uuid]), {"professional": dr_martin.uuid, "blocked": "1"})
    state = privacy_state(record=alice_record)
    assert state.professional_access is False
    assert str(dr_martin.uuid) in state.blocked
    client.post(reverse("privacy_designate", args=[alice_record.uuid]), {"professional": dr_martin.uuid})
    assert privacy_state(record=alice_record).designated_doctor == str(dr_martin.uuid)
    page = client.get(reverse("privacy_settings", args=[alice_record.uuid])).content.decode()
    assert "Dr Claire Martin" in page


def test_privacy_page_finds_professionals_by_name(as_user, alice, alice_record, dr_martin):
    page = as_user(alice).get(reverse("privacy_settings", args=[alice_record.uuid]), {"q": "Claire"})
    assert [p.pk for p in page.context["found"]] == [dr_martin.pk]


def test_stranger_gets_404_on_the_privacy_page(as_user, charlie, alice_record):
    assert as_user(charlie).get(reverse("privacy_settings", args=[alice_record.uuid])).status_code == 404


def test_access_code_page_shows_a_new_code_once_with_a_qr(as_user, alice, alice_record):
    client = as_user(alice)
    response = client.post(reverse("access_codes", args=[alice_record.uuid]), {"hours": "4"})
    assert "<svg" in response.content.decode()
    plain = response.context["fresh"]["code"]
    assert len(plain) == 9
    assert plain not in client.get(reverse("access_codes", args=[alice_record.uuid])).content.decode()
    code = AccessCode.objects.get()
    client.post(reverse("access_code_revoke", args=[code.uuid]))
    code.refresh_from_db()
    assert code.revoked_at is not None


def test_who_can_see_a_document_comes_from_the_policy(as_user, alice, alice_record, dr_martin):
    document = DocumentFactory(record=alice_record, category="lab_result")
    client = as_user(alice)
    lines = {
        line.who: line for line in client.get(reverse("document_detail", args=[document.uuid])).context["who_can_see"]
    }
    assert lines["You"].allowed
    assert lines["A doctor caring for you"].allowed
    assert not lines["A professional you blocked"].allowed
    assert lines["A professional in an emergency"].allowed
    assert not lines["A support agent"].allowed
    assert not lines["The service's operators"].allowed

    document_set_masked(actor=alice, document_uuid=document.uuid, masked=True)
    designated_doctor_set(actor=alice, record=alice_record, professional=dr_martin)
    toggle_set(actor=alice, record=alice_record, key=SettingKey.EMERGENCY_ACCESS, on=False)
    lines = {
        line.who: line for line in client.get(reverse("document_detail", args=[document.uuid])).context["who_can_see"]
    }
    assert not lines["A doctor caring for you"].allowed
    assert "hid" in lines["A doctor caring for you"].why
    assert lines["Your designated doctor, Dr Claire Martin"].allowed
    assert not lines["A professional in an emergency"].allowed


def test_blocking_is_not_shown_to_the_professional(as_user, alice, alice_record, dr_martin):
    from apps.access.professional.services import care_attest

    professional_block(actor=alice, record=alice_record, professional=dr_martin)
    care_attest(professional=dr_martin, record=alice_record)
    response = as_user(dr_martin).get(reverse("record_detail", args=[alice_record.uuid]))
    assert response.status_code == 404
    assert "block" not in response.content.decode().lower()


def test_who_can_see_names_each_caregiver_and_agent_as_the_policy_decides(alice, alice_record, bob, sam):
    from apps.access.visibility import who_can_see
    from apps.delegations import services as delegations
    from tests.factories import DocumentFactory

    document = DocumentFactory(record=alice_record)
    _delegation, token = delegations.delegation_invite(
        actor=alice, record=alice_record, email=bob.email, scopes=["read_documents"]
    )
    delegations.delegation_accept(user=bob, token=token)
    from tests.assistance.helpers import mandate_for  # confirmed by Alice herself (breach 1)

    mandate_for(sam, alice_record, ["upload_documents"], days=7)

    lines = {line.who: line for line in who_can_see(document=document, reader=alice)}

    assert lines[f"{bob} (caregiver)"].allowed
    assert "Your caregivers" not in lines
    agent_line = lines[f"{sam}, {sam.support_structure.name} (support mandate)"]
    assert not agent_line.allowed
    assert agent_line.why == "Their mandate does not include reading your documents."


def test_who_can_see_says_when_no_caregiver_was_chosen(alice, alice_record):
    from apps.access.visibility import who_can_see
    from tests.factories import DocumentFactory

    lines = {line.who: line for line in who_can_see(document=DocumentFactory(record=alice_record), reader=alice)}
    assert not lines["Your caregivers"].allowed
    assert lines["Your caregivers"].why == "You have not chosen any caregiver."
