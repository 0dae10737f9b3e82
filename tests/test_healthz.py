from __future__ import annotations

import pytest
from django.db.utils import OperationalError


def test_healthz_reports_all_parts_up(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "storage"}


def test_healthz_names_the_database_when_it_is_down(client, db, monkeypatch):
    def broken():
        raise OperationalError("connection refused")

    monkeypatch.setattr("healthspace.views._check_database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]


def test_healthz_names_the_broker_when_it_is_unreachable(client, db, settings):
    from healthspace.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = previous
    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]


def test_healthz_names_storage_when_it_cannot_write(client, db, settings, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    settings.MEDIA_ROOT = blocker  # a file where the folder should be
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["storage"]


@pytest.mark.parametrize("path", ["/manifest.webmanifest"])
def test_web_app_manifest_is_served(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.json()["start_url"] == "/"
