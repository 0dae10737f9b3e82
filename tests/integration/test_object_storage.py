"""Rule 6 at scale: documents in S3-compatible object storage (moto's S3 server on 127.0.0.1).

The default storage is configured exactly as healthspace/settings.py builds it
from S3_* variables; only sealed blobs ever reach the bucket. Needs no Redis,
so it runs in both the SQLite and the PostgreSQL run.
"""

from __future__ import annotations

import runpy
import threading

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.utils.functional import empty

from apps.records import documents
from apps.records.models import Document, DocumentStatus
from tests.records.conftest import corpus

BUCKET = "healthspace-documents"
PREFIX = "tenant-a"
SAMPLE_PDF = "pdf/fr-cr-biologie-tsh-fop.pdf"


def _settings_with(monkeypatch, **env: str) -> dict:
    """Evaluate healthspace/settings.py afresh under these environment variables."""
    for name in ("S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import healthspace.settings

    return runpy.run_path(healthspace.settings.__file__)


def _reset_storages() -> None:
    # Django caches built backends (StorageHandler._storages) and the lazy
    # default_storage; the setting_changed signal resets both, this makes sure.
    storages._storages = {}
    default_storage._wrapped = empty


@pytest.fixture
def moto_s3():
    """moto's S3 server on a free port of 127.0.0.1; yields (endpoint, server)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as error:
        pytest.skip(f"moto's server mode is not installed ({error}): .venv/bin/pip install 'moto[server]'")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    # start() waits forever if the server thread fails: bound it.
    starter = threading.Thread(target=server.start, daemon=True)
    starter.start()
    starter.join(timeout=15)
    if starter.is_alive():
        pytest.skip("moto's S3 server did not start within 15 s")
    try:
        host, port = server.get_host_and_port()
    except Exception as error:  # noqa: BLE001 - any failure to start means skip, with the reason
        pytest.skip(f"moto's S3 server could not start: {error!r}")
    state = {"running": True}

    def stop() -> None:
        if state["running"]:
            state["running"] = False
            server.stop()

    yield f"http://{host}:{port}", stop
    stop()


@pytest.fixture
def s3(moto_s3, monkeypatch, settings):
    """The default storage is the bucket, configured by settings.py from S3_* variables; yields a boto3 client."""
    import boto3

    endpoint, stop = moto_s3
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    built = _settings_with(
        monkeypatch,
        S3_BUCKET=BUCKET,
        S3_ENDPOINT_URL=endpoint,
        S3_ACCESS_KEY_ID="testing",
        S3_SECRET_ACCESS_KEY="testing",
        S3_PREFIX=f"/{PREFIX}/",
    )
    settings.STORAGES = built["STORAGES"]
    _reset_storages()
    from storages.backends.s3 import S3Storage

    assert isinstance(storages["default"], S3Storage)
    client.stop_server = stop
    yield client
    _reset_storages()


def _keys(client, prefix: str = "") -> list[str]:
    listing = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_settings_build_the_s3_storage_from_the_environment(monkeypatch):
    built = _settings_with(
        monkeypatch,
        S3_BUCKET="docs",
        S3_ENDPOINT_URL="https://s3.example.test",
        S3_ACCESS_KEY_ID="AKID",
        S3_SECRET_ACCESS_KEY="secret",
        S3_PREFIX="prod",
    )
    storage = built["STORAGES"]["default"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"] == {
        "bucket_name": "docs",
        "endpoint_url": "https://s3.example.test",
        "region_name": "us-east-1",
        "access_key": "AKID",
        "secret_key": "secret",
        "location": "prod",
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
    }
    assert built["STORAGES"]["staticfiles"] == django_settings.STORAGES["staticfiles"]


def test_without_a_bucket_documents_stay_on_local_disk(monkeypatch):
    built = _settings_with(monkeypatch)
    assert built["STORAGES"]["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_an_endpoint_that_is_not_http_stops_start_up(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="S3_ENDPOINT_URL"):
        _settings_with(monkeypatch, S3_BUCKET="docs", S3_ENDPOINT_URL="ftp://s3.example.test")


@pytest.mark.django_db
def test_document_lives_encrypted_in_the_bucket_and_is_deleted_with_it(
    s3, alice, alice_record, django_capture_on_commit_callbacks
):
    data = corpus(SAMPLE_PDF).read_bytes()
    with django_capture_on_commit_callbacks(execute=True):  # the import runs eagerly, as a worker would
        outcome = documents.document_upload(actor=alice, record=alice_record, filename="cr.pdf", data=data)
    document = Document.objects.get(pk=outcome.document.pk)
    assert document.status == DocumentStatus.READY
    assert document.preview_blob_name

    blob_key = f"{PREFIX}/{document.blob_name}"
    preview_key = f"{PREFIX}/{document.preview_blob_name}"
    assert _keys(s3) == sorted([blob_key, preview_key])  # under the prefix, nothing else
    for key in (blob_key, preview_key):
        stored = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert stored.startswith(b"HSDE")
        assert b"%PDF" not in stored
        assert b"\x89PNG" not in stored
        assert data[:200] not in stored
    grantees = [grant["Grantee"] for grant in s3.get_object_acl(Bucket=BUCKET, Key=blob_key)["Grants"]]
    assert all(grantee.get("Type") == "CanonicalUser" for grantee in grantees)  # private: no public grant

    _document, content = documents.document_content(actor=alice, document_uuid=document.uuid)
    assert content == data
    _document, preview = documents.document_content(actor=alice, document_uuid=document.uuid, preview=True)
    assert preview.startswith(b"\x89PNG")

    # The same name again is never overwritten: a second blob gets its own key.
    again = default_storage.save(document.blob_name, ContentFile(b"x"))
    assert again != document.blob_name
    default_storage.delete(again)

    with django_capture_on_commit_callbacks(execute=True):
        documents.document_delete(actor=alice, document_uuid=document.uuid)
    assert not Document.objects.filter(pk=document.pk).exists()
    assert _keys(s3) == []


@pytest.mark.django_db
def test_healthz_checks_the_object_storage(s3, client):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["storage"] == {"ok": True}
    assert _keys(s3) == []  # the probe cleans up after itself

    s3.stop_server()
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["storage"]
    assert body["checks"]["storage"]["ok"] is False
