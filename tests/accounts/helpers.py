"""Helpers for the account tests: read pages as text, find links in the mails sent."""

from __future__ import annotations

import html
import re

from django.core import mail
from django.test import Client
from django.utils.html import strip_tags

from tests.factories import PASSWORD

# What a new patient types on the sign-up page.
SIGNUP_DATA = {
    "email": "nina@example.test",
    "password1": "a-long-and-unusual-passphrase",
    "password2": "a-long-and-unusual-passphrase",
    "given_names": "Nina",
    "family_name": "Lefebvre",
    "birth_date": "1990-05-17",
    "sex": "F",
}


def text_of(response) -> str:
    """The page as visible text (tags dropped, whitespace collapsed), for matching whole sentences."""
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


def mails_to(outbox: list[mail.EmailMessage], address: str) -> list[mail.EmailMessage]:
    return [message for message in outbox if address in message.to]


def link_in(message: mail.EmailMessage, pattern: str) -> str:
    """The path of the first link in ``message`` matching ``pattern`` (a regex on the path)."""
    found = re.search(r"https?://testserver(" + pattern + r")", message.body)
    assert found, f"no link matching {pattern!r} in:\n{message.body}"
    return found.group(1)


def confirmation_path(message: mail.EmailMessage) -> str:
    return link_in(message, r"/accounts/confirm-email/[^/\s]+/")


def password_login(client: Client, email: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


class BrowserClient(Client):
    """A test client that forgets the cookies the server deletes, as a browser does.

    Django's test client keeps a deleted cookie with an empty value and sends it back.
    """

    def request(self, **request):
        response = super().request(**request)
        for name, morsel in list(self.cookies.items()):
            if str(morsel["max-age"]) == "0":
                del self.cookies[name]
        return response
