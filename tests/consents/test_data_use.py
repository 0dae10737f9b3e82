from __future__ import annotations

import pytest
from django.urls import reverse

URL = "/how-my-data-is-used/"
HEADINGS = ("where", "who", "what-for", "rights", "risks")


def _controls(html: str) -> dict[str, str]:
    """data-control name -> href, from the page."""
    import re

    return {name: href for href, name in re.findall(r'<a href="([^"]+)" data-control="([^"]+)"', html)}


def test_the_page_is_public(client, db):
    response = client.get(URL)
    assert response.status_code == 200
    assert reverse("data_use") == URL


def test_the_page_has_its_headings(client, db):
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for anchor in HEADINGS:
        assert f'<h2 id="{anchor}">' in html
    for title in ("Where your data is kept", "Who can see your data", "What your data is used for", "Your rights"):
        assert title in html
    assert "The risks, and how to reduce them" in html


def test_the_page_is_in_french_by_default(client, db, settings):
    from healthspace import settings as project_settings

    # The shared test fixture switches to English; put back what the project ships with.
    settings.LANGUAGE_CODE = project_settings.LANGUAGE_CODE
    assert settings.LANGUAGE_CODE == "fr"
    response = client.get(URL)
    assert '<html lang="fr">' in response.content.decode()


def test_the_page_is_linked_from_every_footer(client, db):
    html = client.get(reverse("account_login")).content.decode()
    assert f'href="{URL}"' in html


def test_logged_out_the_controls_lead_to_the_login(client, db):
    controls = _controls(client.get(URL).content.decode())
    assert controls["access"] == reverse("home")
    assert controls["security"] == reverse("security")
    assert {"access", "access-history", "export", "rectification", "restriction", "erasure", "upload"} <= set(controls)


def test_logged_in_the_controls_point_to_the_persons_record(as_user, alice, alice_record):
    html = as_user(alice).get(URL).content.decode()
    controls = _controls(html)
    record_url = reverse("record_detail", args=[alice_record.uuid])
    assert controls["access"] == record_url
    assert controls["export"] == record_url
    assert controls["erasure"] == record_url
    assert controls["upload"] == reverse("document_upload", args=[alice_record.uuid])
    assert controls["directives"] == reverse("personal_directives", args=[alice_record.uuid])
    assert controls["security"] == reverse("security")


@pytest.mark.urls("tests.consents.urls_with_controls")
def test_logged_in_the_history_and_privacy_links_go_to_their_pages(as_user, alice, alice_record):
    controls = _controls(as_user(alice).get(URL).content.decode())
    history = reverse("access_history", args=[alice_record.uuid])
    privacy = reverse("privacy_settings", args=[alice_record.uuid])
    assert controls["history"] == controls["access-history"] == history
    for name in ("privacy", "restriction", "opt-out", "research-opt-out"):
        assert controls[name] == privacy
    assert controls["codes"] in (privacy, reverse("access_codes", args=[alice_record.uuid]))


def test_a_person_without_a_record_gets_the_records_page(as_user, dr_martin):
    response = as_user(dr_martin).get(URL)
    assert response.status_code == 200
    assert _controls(response.content.decode())["access"] == reverse("home")
