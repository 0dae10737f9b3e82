"""The document pages and their REST face."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.notifications.models import Notification
from apps.records.models import Document, DocumentStatus
from tests.factories import DocumentFactory
from tests.records.conftest import pdf_bytes


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len([q for q in ctx.captured_queries if not q["sql"].startswith('INSERT INTO "access_accessevent"')])


def test_timeline_lists_documents_newest_first(as_user, alice, alice_record):
    old = DocumentFactory(record=alice_record, title="Old letter", care_date="2020-01-01")
    new = DocumentFactory(record=alice_record, title="New result", care_date="2024-05-01", category="lab_result")
    response = as_user(alice).get(reverse("record_detail", args=[alice_record.uuid]))
    body = response.content.decode()
    assert body.index("New result") < body.index("Old letter")
    assert [c[0] for c in response.context["categories"]] == ["lab_result", "other"]
    assert {old, new} == {d for _month, items in response.context["groups"] for d in items}


def test_timeline_filters_by_category(as_user, alice, alice_record):
    DocumentFactory(record=alice_record, title="Old letter")
    DocumentFactory(record=alice_record, title="New result", category="lab_result")
    response = as_user(alice).get(reverse("record_detail", args=[alice_record.uuid]), {"category": "lab_result"})
    assert "New result" in response.content.decode()
    assert "Old letter" not in response.content.decode()


def test_search_finds_a_value_in_the_extracted_text(as_user, alice, alice_record):
    DocumentFactory(record=alice_record, title="Bilan", extracted_text="TSH 2.5 mUI/L normal")
    DocumentFactory(record=alice_record, title="Radio du genou", extracted_text="genou")
    response = as_user(alice).get(reverse("record_detail", args=[alice_record.uuid]), {"q": "TSH"})
    titles = [d.title for _m, items in response.context["groups"] for d in items]
    assert titles == ["Bilan"]


def test_timeline_pages_with_a_cursor(as_user, alice, alice_record):
    for day in range(1, 61):
        DocumentFactory(record=alice_record, title=f"doc {day}", care_date=f"2024-03-{(day % 28) + 1:02d}")
    client = as_user(alice)
    first = client.get(reverse("record_detail", args=[alice_record.uuid]))
    seen = [d.uuid for _m, items in first.context["groups"] for d in items]
    second = client.get(reverse("record_detail", args=[alice_record.uuid]), {"after": first.context["next_cursor"]})
    more = [d.uuid for _m, items in second.context["groups"] for d in items]
    assert (len(seen), len(more)) == (50, 10)
    assert not set(seen) & set(more)


def test_timeline_runs_the_same_queries_for_3_and_300_documents(as_user, alice, alice_record):
    client = as_user(alice)
    url = reverse("record_detail", args=[alice_record.uuid])
    DocumentFactory.create_batch(3, record=alice_record)
    client.get(url)
    few = _queries(client, url)
    DocumentFactory.create_batch(297, record=alice_record)
    assert _queries(client, url) == few


def test_document_page_shows_metadata_and_facts(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record, title="Bilan thyroïdien", author_name="Dr Lab")
    document.facts.create(record=alice_record, kind="observation", display="TSH", value_decimal="2.5", unit="mUI/L")
    response = as_user(alice).get(reverse("document_detail", args=[document.uuid]))
    body = response.content.decode()
    for text in ("Bilan thyroïdien", "Dr Lab", "TSH", "mUI/L"):
        assert text in body


def test_stranger_gets_404_on_a_document(as_user, charlie, alice_record):
    document = DocumentFactory(record=alice_record)
    assert as_user(charlie).get(reverse("document_detail", args=[document.uuid])).status_code == 404
    assert as_user(charlie).get(reverse("document_content", args=[document.uuid])).status_code == 404


def test_download_is_an_attachment_with_nosniff(run_tasks, as_user, alice, alice_record):
    from apps.records import documents

    document = run_tasks(
        documents.document_upload, actor=alice, record=alice_record, filename="a.pdf", data=pdf_bytes()
    ).document
    response = as_user(alice).get(reverse("document_content", args=[document.uuid]))
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    inline = as_user(alice).get(reverse("document_content", args=[document.uuid]), {"inline": "1"})
    assert inline["Content-Disposition"].startswith("inline")
    assert "sandbox" in inline["Content-Security-Policy"]


def test_pdf_with_javascript_is_never_served_inline(run_tasks, as_user, alice, alice_record):
    from io import BytesIO

    from pypdf import PdfWriter
    from pypdf.actions import JavaScript

    from apps.records import documents

    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer.add_open_action(JavaScript("app.alert('hi');"))
    buffer = BytesIO()
    writer.write(buffer)
    document = run_tasks(
        documents.document_upload, actor=alice, record=alice_record, filename="js.pdf", data=buffer.getvalue()
    ).document
    assert Document.objects.get(pk=document.pk).has_active_content
    response = as_user(alice).get(reverse("document_content", args=[document.uuid]), {"inline": "1"})
    assert response["Content-Disposition"].startswith("attachment")
    page = as_user(alice).get(reverse("document_detail", args=[document.uuid]))
    assert "JavaScript" in page.content.decode()


def test_upload_page_accepts_several_files_and_reports_each(
    as_user, alice, alice_record, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(alice).post(
            reverse("document_upload", args=[alice_record.uuid]),
            {"files": [SimpleUploadedFile("a.pdf", pdf_bytes()), SimpleUploadedFile("empty.pdf", b"")]},
        )
    assert response.status_code == 400
    results = response.context["results"]
    assert [r["ok"] for r in results] == [True, False]
    assert "empty" in results[1]["message"]
    assert Document.objects.filter(record=alice_record, status=DocumentStatus.READY).count() == 1


def test_rename_recategorise_and_mask(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record)
    client = as_user(alice)
    client.post(reverse("document_edit", args=[document.uuid]), {"title": "Ordonnance", "category": "prescription"})
    client.post(reverse("document_mask", args=[document.uuid]), {"masked": "1"})
    document.refresh_from_db()
    assert (document.title, document.category, document.masked) == ("Ordonnance", "prescription", True)


def test_delete_asks_for_confirmation_first(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record)
    client = as_user(alice)
    assert client.get(reverse("document_delete", args=[document.uuid])).status_code == 200
    assert Document.objects.filter(pk=document.pk).exists()
    client.post(reverse("document_delete", args=[document.uuid]))
    assert not Document.objects.filter(pk=document.pk).exists()


# --- API ------------------------------------------------------------------------------


def test_api_upload_list_and_read(as_user, alice, alice_record, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = as_user(alice)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            f"/api/v1/records/{alice_record.uuid}/documents/", {"file": SimpleUploadedFile("a.pdf", pdf_bytes())}
        )
    assert created.status_code == 201
    listing = client.get(f"/api/v1/records/{alice_record.uuid}/documents/").json()
    assert [d["id"] for d in listing["results"]] == [created.json()["id"]]
    detail = client.get(f"/api/v1/documents/{created.json()['id']}/").json()
    assert detail["status"] == "ready"
    content = client.get(f"/api/v1/documents/{created.json()['id']}/content/")
    assert content.content.startswith(b"%PDF")


def test_api_refused_upload_says_why(as_user, alice, alice_record):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = as_user(alice).post(
        f"/api/v1/records/{alice_record.uuid}/documents/", {"file": SimpleUploadedFile("x.pdf", b"<html></html>")}
    )
    assert response.status_code == 400
    assert response.json()["code"] == ["unsupported_type"] or response.json()["code"] == "unsupported_type"
    assert not Document.objects.exists()


def test_api_facts_filter_by_kind(as_user, alice, alice_record):
    document = DocumentFactory(record=alice_record)
    document.facts.create(record=alice_record, kind="observation", display="TSH")
    document.facts.create(record=alice_record, kind="allergy", display="Penicillin")
    response = as_user(alice).get(f"/api/v1/records/{alice_record.uuid}/facts/", {"kind": "allergy"})
    assert [f["display"] for f in response.json()] == ["Penicillin"]
    assert response.json()[0]["source_document"] == str(document.uuid)


def test_api_stranger_cannot_list_documents(as_user, charlie, alice_record):
    assert as_user(charlie).get(f"/api/v1/records/{alice_record.uuid}/documents/").status_code == 404


# --- Notification centre ----------------------------------------------------------------


def _notify(user, n):
    Notification.objects.bulk_create(
        Notification(recipient=user, event="document_ready", dedup_key=f"k{user.pk}-{i}") for i in range(n)
    )


def test_notification_centre_lists_and_marks_read(as_user, alice):
    _notify(alice, 2)
    client = as_user(alice)
    assert "2" in client.get("/").content.decode()
    response = client.get(reverse("notification_centre"))
    assert len(response.context["rows"]) == 2
    client.post(reverse("notifications_mark_read"))
    assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()


def test_notification_centre_runs_the_same_queries_for_3_and_300(as_user, alice):
    client = as_user(alice)
    _notify(alice, 3)
    client.get(reverse("notification_centre"))
    few = _queries(client, reverse("notification_centre"))
    Notification.objects.all().delete()
    _notify(alice, 300)
    assert _queries(client, reverse("notification_centre")) == few


def test_api_notifications_are_the_persons_own(as_user, alice, charlie):
    _notify(alice, 2)
    _notify(charlie, 1)
    assert len(as_user(charlie).get("/api/v1/notifications/").json()) == 1
    marked = as_user(charlie).post("/api/v1/notifications/read/", {}, content_type="application/json").json()
    assert marked == {"marked": 1}
    assert Notification.objects.filter(recipient=alice, read_at__isnull=True).count() == 2


@pytest.mark.parametrize("path", ["/api/v1/notifications/", "/api/v1/notifications/unread-count/"])
def test_api_notifications_need_a_login(client, db, path):
    assert client.get(path).status_code == 403


def test_api_facts_of_a_hidden_document_are_not_given_to_a_professional(as_user, alice, alice_record, dr_martin):
    from apps.access.models import CareRelationship

    CareRelationship.objects.create(professional=dr_martin, record=alice_record)
    shown = DocumentFactory(record=alice_record, category="lab_result")
    hidden = DocumentFactory(record=alice_record, category="lab_result", masked=True)
    shown.facts.create(record=alice_record, kind="observation", display="TSH")
    hidden.facts.create(record=alice_record, kind="observation", display="HIV test")
    facts = as_user(dr_martin).get(f"/api/v1/records/{alice_record.uuid}/facts/").json()
    assert [f["display"] for f in facts] == ["TSH"]
