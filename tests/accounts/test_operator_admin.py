"""Operators create professionals and support agents in the admin site, and see no record."""

from __future__ import annotations

from apps.accounts.models import Role, User
from tests.conftest import logged_in_client
from tests.factories import SupportStructureFactory


def _admin_client(client, olga):
    """Olga, superuser, logged in with her password and her code (the admin asks for both)."""
    olga.is_superuser = True
    olga.save()
    return logged_in_client(olga)


def test_operator_creates_a_professional_with_an_rpps(client, olga):
    response = _admin_client(client, olga).post(
        "/admin/accounts/user/add/",
        {
            "email": "dr.new@example.test",
            "display_name": "Dr New",
            "role": Role.PROFESSIONAL,
            "rpps": "10009876543",
            "profession": "nurse",
            "password1": "a-long-enough-password",
            "password2": "a-long-enough-password",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="dr.new@example.test")
    assert (user.role, user.rpps, user.profession) == (Role.PROFESSIONAL, "10009876543", "nurse")


def test_professional_without_rpps_is_refused_and_not_created(client, olga):
    response = _admin_client(client, olga).post(
        "/admin/accounts/user/add/",
        {
            "email": "dr.new@example.test",
            "role": Role.PROFESSIONAL,
            "rpps": "",
            "password1": "a-long-enough-password",
            "password2": "a-long-enough-password",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="dr.new@example.test").exists()


def test_malformed_rpps_is_refused(client, olga):
    response = _admin_client(client, olga).post(
        "/admin/accounts/user/add/",
        {
            "email": "dr.new@example.test",
            "role": Role.PROFESSIONAL,
            "rpps": "123",
            "password1": "a-long-enough-password",
            "password2": "a-long-enough-password",
        },
    )
    assert "11 digits" in response.content.decode() or "11 chiffres" in response.content.decode()
    assert not User.objects.filter(email="dr.new@example.test").exists()


def test_operator_creates_a_support_agent_in_a_structure(client, olga):
    structure = SupportStructureFactory()
    _admin_client(client, olga).post(
        "/admin/accounts/user/add/",
        {
            "email": "agent@example.test",
            "role": Role.SUPPORT_AGENT,
            "support_structure": structure.pk,
            "rpps": "",
            "password1": "a-long-enough-password",
            "password2": "a-long-enough-password",
        },
    )
    assert User.objects.get(email="agent@example.test").support_structure == structure


def test_admin_site_offers_no_way_to_records(client, olga):
    response = _admin_client(client, olga).get("/admin/")
    assert response.status_code == 200
    assert "/admin/records/" not in response.content.decode()
    assert _admin_client(client, olga).get("/admin/records/record/").status_code == 404
