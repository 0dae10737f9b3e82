"""Small helpers shared by the browser tests."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

CONFIRM_LINK = re.compile(r"https?://\S+?(/accounts/confirm-email/[^\s/]+/)")


def field(page: Page, name: str) -> Locator:
    """A form control by its Django name, checked to carry an accessible name (a label).

    Our own labels are matched this way rather than by text so the tests do not
    depend on whether the French catalogue translates them.
    """
    control = page.locator(f"#id_{name}")
    expect(control).to_have_accessible_name(re.compile(r"\w"))
    return control


def confirmation_path(email: str) -> str:
    """The path of the e-mail confirmation link last sent to ``email``, read from the outbox."""
    from apps.notifications.models import OutboxMessage

    messages = [message for message in OutboxMessage.objects.order_by("-created_at") if email in message.to]
    assert messages, f"no e-mail in the outbox for {email}"
    match = CONFIRM_LINK.search(messages[0].body)
    assert match, f"no confirmation link in the e-mail body:\n{messages[0].body}"
    return match.group(1)


# The live server speaks WSGI only: live.js's WebSocket always fails there (and it
# then falls back to polling). That one failure is expected on every page using it.
WEBSOCKET_FAILURE = re.compile(r"WebSocket connection to '\S+/ws/notifications/' failed")


class ConsoleErrors(list):
    """Errors a page reports: console.error messages and uncaught exceptions."""

    def __init__(self, page: Page) -> None:
        super().__init__()
        page.on("console", lambda message: message.type == "error" and self.append(message.text))
        page.on("pageerror", lambda error: self.append(f"uncaught: {error}"))

    def unexpected(self, *allowed: re.Pattern[str]) -> list[str]:
        """The errors left once the WebSocket failure and the ``allowed`` patterns are taken out."""
        patterns = (WEBSOCKET_FAILURE, *allowed)
        return [text for text in self if not any(pattern.search(text) for pattern in patterns)]
