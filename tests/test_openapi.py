"""The OpenAPI schema describes every endpoint and validates without warnings."""

from __future__ import annotations

from django.core.management import call_command


def test_schema_generates_valid_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/v1/records/{record_uuid}/documents/",
        "/api/v1/records/{record_uuid}/privacy/",
        "/api/v1/records/{record_uuid}/access-history/",
        "/api/v1/notifications/",
    ):
        assert path in text
