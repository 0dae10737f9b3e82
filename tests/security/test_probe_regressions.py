"""The probes of issue 12's review, one behaviour each: pages that printed what the policy denies.

Fixed by listing documents only through documents_visible_to on the privacy and directives pages.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.access.models import CareRelationship
from apps.consents.directives.services import directives_update
from apps.delegations import services as delegations
from apps.delegations.models import Delegation, Scope
from apps.records.models import Document
from tests.assistance.helpers import mandate_for
from tests.factories import DocumentFactory, GuardianshipFactory
from tests.records.conftest import pdf_bytes

HIDDEN_TITLE = "ZQX-probe-hidden-title"


def _caregiver(alice, record, user, scopes: list[str]) -> None:
    delegation, _token = delegations.delegation_invite(actor=alice, record=record, email=user.email, scopes=scopes)
    Delegation.objects.filter(pk=delegation.pk).update(delegate=user, accepted_at=timezone.now())


def _directives_linked_to_hidden_report(alice, record):
    document = DocumentFactory(record=record, title=HIDDEN_TITLE, category="report", masked=True)
    directives_update(actor=alice, record=record, advance_directives_document=document)
    return document


def test_privacy_page_shows_no_document_title_to_a_caregiver_who_only_manages_settings(
    as_user, alice, alice_record, bob
):
    DocumentFactory(record=alice_record, title=HIDDEN_TITLE, category="report", masked=True)
    _caregiver(alice, alice_record, bob, [Scope.MANAGE_SETTINGS])

    response = as_user(bob).get(f"/records/{alice_record.uuid}/privacy/")

    assert response.status_code == 200
    assert HIDDEN_TITLE not in response.content.decode()


def test_directives_page_shows_no_linked_document_title_to_a_caregiver_without_document_rights(
    as_user, alice, alice_record, bob
):
    _directives_linked_to_hidden_report(alice, alice_record)
    _caregiver(alice, alice_record, bob, [Scope.READ_PROFILE])

    response = as_user(bob).get(f"/records/{alice_record.uuid}/directives/")

    assert response.status_code == 200
    assert HIDDEN_TITLE not in response.content.decode()


def test_directives_page_shows_no_linked_document_title_to_a_professional_it_is_hidden_from(
    as_user, alice, alice_record, dr_martin
):
    _directives_linked_to_hidden_report(alice, alice_record)
    CareRelationship.objects.create(professional=dr_martin, record=alice_record)

    response = as_user(dr_martin).get(f"/records/{alice_record.uuid}/directives/")

    assert response.status_code == 200
    assert HIDDEN_TITLE not in response.content.decode()


def test_directives_drop_down_offers_parents_no_document_confidential_from_them(as_user, alice, alice_child):
    DocumentFactory(record=alice_child, title=HIDDEN_TITLE, category="report", confidential_from_parents=True)

    response = as_user(alice).get(f"/records/{alice_child.uuid}/directives/")

    assert response.status_code == 200
    assert HIDDEN_TITLE not in response.content.decode()


# --- Crawler findings: the access history names no document the reader may not see -------------

CONFIDENTIAL_TITLE = "ZQX-probe-confidential-title"


def _confidential_read_by_the_childs_doctor(child, doctor):
    """A document of the child's confidential care, opened by the child's doctor (a journal entry with its title)."""
    from apps.records.documents import document_get_for

    document = DocumentFactory(
        record=child, title=CONFIDENTIAL_TITLE, category="report", confidential_from_parents=True
    )
    CareRelationship.objects.create(professional=doctor, record=child)
    document_get_for(actor=doctor, document_uuid=document.uuid)
    return document


def test_access_history_page_shows_parents_no_title_or_id_of_a_document_confidential_from_them(
    as_user, alice, alice_child, dr_martin
):
    document = _confidential_read_by_the_childs_doctor(alice_child, dr_martin)

    response = as_user(alice).get(f"/records/{alice_child.uuid}/history/", headers={"accept-language": "en"})

    body = response.content.decode()
    assert response.status_code == 200
    assert CONFIDENTIAL_TITLE not in body
    assert str(document.uuid) not in body
    assert "a document you may not see" in body


def test_access_history_page_shows_parents_no_title_of_a_confidential_document_once_deleted(
    as_user, alice, alice_child, dr_martin
):
    from apps.records.models import Document

    document = _confidential_read_by_the_childs_doctor(alice_child, dr_martin)
    Document.objects.filter(pk=document.pk).delete()  # its confidentiality went with it; the journal kept its title

    response = as_user(alice).get(f"/records/{alice_child.uuid}/history/")

    assert response.status_code == 200
    assert CONFIDENTIAL_TITLE not in response.content.decode()


def test_access_history_api_gives_parents_no_title_or_id_of_a_document_confidential_from_them(
    as_user, alice, alice_child, dr_martin
):
    document = _confidential_read_by_the_childs_doctor(alice_child, dr_martin)

    response = as_user(alice).get(f"/api/v1/records/{alice_child.uuid}/access-history/")

    read = next(e for e in response.json()["results"] if e["action"] == "document.read")
    assert read["resource"] == {"type": "document", "id": None, "label": ""}
    assert CONFIDENTIAL_TITLE not in response.content.decode()
    assert str(document.uuid) not in response.content.decode()


def test_journal_file_gives_parents_the_confidential_entries_as_hashes_only_and_still_verifies_offline(
    as_user, alice, alice_child, dr_martin
):
    import apps.access.journal_offline as offline
    from apps.access.checkpoints import write_checkpoint

    document = _confidential_read_by_the_childs_doctor(alice_child, dr_martin)
    write_checkpoint()

    response = as_user(alice).get(f"/api/v1/records/{alice_child.uuid}/access-history/journal/")

    proof = response.json()
    withheld = [entry for entry in proof["entries"] if entry.get("redacted")]
    assert CONFIDENTIAL_TITLE not in response.content.decode()
    assert str(document.uuid) not in response.content.decode()
    assert withheld
    assert set(withheld[0]) == {"chain", "chain_seq", "prev_hash", "hash", "redacted"}
    assert offline.check_proof(proof) == []


def test_journal_file_with_a_withheld_entry_whose_link_is_broken_fails_offline(as_user, alice, alice_child, dr_martin):
    import apps.access.journal_offline as offline
    from apps.access.checkpoints import write_checkpoint

    _confidential_read_by_the_childs_doctor(alice_child, dr_martin)
    write_checkpoint()
    proof = as_user(alice).get(f"/api/v1/records/{alice_child.uuid}/access-history/journal/").json()
    withheld = next(entry for entry in proof["entries"] if entry.get("redacted"))
    withheld["hash"] = "f" * 64

    assert f"entry #{withheld['chain_seq'] + 1}: its link to the previous entry does not match" in offline.check_proof(
        proof
    )


# --- Crawler findings: a fact's source is named only to whom may see that document ---------------

SOURCE_TITLE = "ZQX-probe-source-title"


def _fact_from_a_document_and_a_profile_caregiver(alice, record, caregiver):
    from datetime import date

    from apps.clinical.models import ClinicalFact

    document = DocumentFactory(record=record, title=SOURCE_TITLE, category="lab_result")
    ClinicalFact.objects.create(
        record=record,
        source_document=document,
        kind="allergy",
        display="ZQX-probe-fact",
        effective_date=date(2025, 3, 1),
    )
    _caregiver(alice, record, caregiver, [Scope.READ_PROFILE])
    return document


def test_profile_page_shows_a_profile_only_caregiver_the_fact_but_not_its_source_document(
    as_user, alice, alice_record, bob
):
    document = _fact_from_a_document_and_a_profile_caregiver(alice, alice_record, bob)

    response = as_user(bob).get(f"/records/{alice_record.uuid}/profile/", headers={"accept-language": "en"})

    body = response.content.decode()
    assert "ZQX-probe-fact" in body
    assert SOURCE_TITLE not in body
    assert str(document.uuid) not in body
    assert "from a document" in body


def test_profile_facts_api_gives_a_profile_only_caregiver_no_source_document_id_or_title(
    as_user, alice, alice_record, bob
):
    document = _fact_from_a_document_and_a_profile_caregiver(alice, alice_record, bob)

    response = as_user(bob).get(f"/api/v1/records/{alice_record.uuid}/profile/facts/")

    fact = next(f for f in response.json() if f["display"] == "ZQX-probe-fact")
    assert (fact["source_document"], fact["source_label"], fact["source_withheld"]) == (None, "", True)
    assert str(document.uuid) not in response.content.decode()


def test_record_facts_api_gives_a_profile_only_caregiver_no_source_document_id(as_user, alice, alice_record, bob):
    document = _fact_from_a_document_and_a_profile_caregiver(alice, alice_record, bob)

    response = as_user(bob).get(f"/api/v1/records/{alice_record.uuid}/facts/")

    assert response.status_code == 200
    assert [(f["source_document"], f["source_withheld"]) for f in response.json()] == [(None, True)]
    assert str(document.uuid) not in response.content.decode()


def test_summary_api_gives_a_profile_only_caregiver_no_source_document_id_or_title(as_user, alice, alice_record, bob):
    document = _fact_from_a_document_and_a_profile_caregiver(alice, alice_record, bob)

    response = as_user(bob).get(f"/api/v1/records/{alice_record.uuid}/summary/")

    assert response.status_code == 200
    assert [line["sources"] for line in response.json()["alerts"]] == [
        [{"document_id": None, "title": "", "deleted": False, "withheld": True}]
    ]
    assert SOURCE_TITLE not in response.content.decode()
    assert str(document.uuid) not in response.content.decode()


def test_the_owner_still_reads_each_facts_source_document(as_user, alice, alice_record, bob):
    document = _fact_from_a_document_and_a_profile_caregiver(alice, alice_record, bob)

    response = as_user(alice).get(f"/records/{alice_record.uuid}/profile/")

    assert SOURCE_TITLE in response.content.decode()
    assert f"/documents/{document.uuid}/" in response.content.decode()


# --- Found by the policy's generated worlds (tests/property): the minor's confidential care -------


def _confidential_care(record):
    return DocumentFactory(record=record, title=HIDDEN_TITLE, category="report", confidential_from_parents=True)


def _shows_nothing_of(client, record, document) -> None:
    """Neither a list (page, API) nor the document itself (page, API) gives it away."""
    page = client.get(f"/records/{record.uuid}/")
    listed = client.get(f"/api/v1/records/{record.uuid}/documents/")
    assert page.status_code == listed.status_code == 200
    assert HIDDEN_TITLE not in page.content.decode()
    assert HIDDEN_TITLE not in listed.content.decode()
    assert client.get(f"/documents/{document.uuid}/").status_code == 404
    assert client.get(f"/api/v1/documents/{document.uuid}/").status_code == 404


def test_a_parent_cannot_invite_themself_as_caregiver_of_their_childs_record(as_user, alice, alice_child):
    response = as_user(alice).post(
        f"/api/v1/records/{alice_child.uuid}/delegations/",
        {"email": alice.email, "scopes": ["read_documents"]},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "You cannot invite yourself." in response.json()["detail"]
    assert not Delegation.objects.filter(record=alice_child).exists()


def test_a_parent_who_also_cares_for_their_child_as_a_professional_never_sees_the_confidential_care(
    as_user, alice_child, dr_martin
):
    document = _confidential_care(alice_child)
    GuardianshipFactory(guardian=dr_martin, record=alice_child)
    CareRelationship.objects.create(professional=dr_martin, record=alice_child)

    _shows_nothing_of(as_user(dr_martin), alice_child, document)


def test_a_caregiver_the_parents_chose_never_sees_the_childs_confidential_care(as_user, alice, alice_child, bob):
    document = _confidential_care(alice_child)
    _caregiver(alice, alice_child, bob, [Scope.READ_DOCUMENTS])

    _shows_nothing_of(as_user(bob), alice_child, document)


def test_a_support_agent_on_the_childs_record_never_sees_the_confidential_care(as_user, alice_child, sam):
    document = _confidential_care(alice_child)
    mandate_for(sam, alice_child, ["read_documents"])

    _shows_nothing_of(as_user(sam), alice_child, document)


def test_a_caregiver_who_may_only_add_documents_lists_none_and_still_adds(as_user, alice, alice_record, bob):
    DocumentFactory(record=alice_record, title=HIDDEN_TITLE, category="report")
    _caregiver(alice, alice_record, bob, [Scope.UPLOAD_DOCUMENTS])
    client = as_user(bob)

    assert client.get(f"/api/v1/records/{alice_record.uuid}/documents/").status_code == 404
    assert HIDDEN_TITLE not in client.get(f"/records/{alice_record.uuid}/").content.decode()
    form = client.get(f"/records/{alice_record.uuid}/upload/")
    assert form.status_code == 200
    assert HIDDEN_TITLE not in form.content.decode()
    added = client.post(f"/records/{alice_record.uuid}/upload/", {"files": [SimpleUploadedFile("a.pdf", pdf_bytes())]})
    assert added.status_code == 200
    assert HIDDEN_TITLE not in added.content.decode()
    assert Document.objects.filter(record=alice_record, original_filename="a.pdf").exists()


# --- A deleted document's facts keep being kept from whom the document was kept from -----------

WITHHELD_FACT = "ZQX-probe-withheld-fact"


def _fact_of(document):
    from apps.clinical.models import ClinicalFact

    return ClinicalFact.objects.create(
        record=document.record, source_document=document, kind="condition", display=WITHHELD_FACT
    )


def test_facts_of_a_deleted_masked_document_stay_hidden_from_professionals(alice, alice_record, dr_martin):
    from apps.clinical.selectors import facts_visible_to
    from apps.records.documents import document_delete

    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    document = DocumentFactory(record=alice_record, category="report", masked=True)
    _fact_of(document)

    document_delete(actor=alice, document_uuid=document.uuid)

    assert not facts_visible_to(actor=dr_martin, record=alice_record).filter(display=WITHHELD_FACT).exists()


def test_a_professional_cannot_read_by_id_a_fact_of_a_deleted_masked_document(alice, alice_record, dr_martin):
    import pytest

    from apps.access.refusals import RecordUnavailable
    from apps.clinical.profile import fact_get_for
    from apps.records.documents import document_delete

    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    document = DocumentFactory(record=alice_record, category="report", masked=True)
    fact = _fact_of(document)
    document_delete(actor=alice, document_uuid=document.uuid)

    with pytest.raises(RecordUnavailable):
        fact_get_for(actor=dr_martin, fact_uuid=fact.uuid)


def test_facts_of_a_deleted_confidential_document_stay_hidden_from_the_parents(as_user, alice, alice_child):
    from apps.records.documents import document_delete
    from apps.records.models import Record
    from tests.factories import UserFactory

    teen = UserFactory()  # the minor has their own account and deletes their confidential document
    Record.objects.filter(pk=alice_child.pk).update(owner=teen)
    document = _confidential_care(alice_child)
    _fact_of(document)

    document_delete(actor=teen, document_uuid=document.uuid)

    page = as_user(alice).get(f"/records/{alice_child.uuid}/profile/")
    assert page.status_code == 200
    assert WITHHELD_FACT not in page.content.decode()


def test_the_person_still_sees_the_facts_of_their_deleted_masked_document(alice, alice_record):
    from apps.clinical.selectors import facts_visible_to
    from apps.records.documents import document_delete

    document = DocumentFactory(record=alice_record, category="report", masked=True)
    _fact_of(document)

    document_delete(actor=alice, document_uuid=document.uuid)

    assert facts_visible_to(actor=alice, record=alice_record).filter(display=WITHHELD_FACT).exists()
