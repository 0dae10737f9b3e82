"""The applications allowed to ask a person for access (django-oauth-toolkit's swappable model).

Our own model from the start, so that SMART on FHIR can add what it needs (allowed scopes,
a JWKS address, launch settings) with ordinary migrations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlparse

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from oauth2_provider.models import AbstractApplication

# RFC 8252 §7.3: a native app may receive its code on a loopback address over plain http.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "[::1]"})
UNSAFE_SCHEMES = frozenset({"javascript", "data", "file", "vbscript", "blob"})


class Application(AbstractApplication):
    """An app or piece of software that a person may let act for them through the API."""

    if TYPE_CHECKING:
        # django-oauth-toolkit ships no types, so mypy cannot see this is a model: its managers,
        # named here, let the plugin type the reverse relation ``user.oauth_application``.
        objects: ClassVar[models.Manager[Application]]
        _default_manager: ClassVar[models.Manager[Application]]

    class Meta(AbstractApplication.Meta):
        verbose_name = _lazy("application")
        verbose_name_plural = _lazy("applications")

    def get_allowed_schemes(self) -> list[str]:
        # https everywhere (the setting); a first-party app's own scheme and loopback http
        # only for the redirect URIs that use them, checked in clean().
        schemes = set(super().get_allowed_schemes())
        for uri in self.redirect_uris.split():
            parsed = urlparse(uri)
            if parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS:
                schemes.add("http")
            elif parsed.scheme not in {"", "http"}:
                schemes.add(parsed.scheme)  # a native app's private scheme (RFC 8252 §7.1)
        return sorted(schemes)

    def clean(self) -> None:
        for uri in self.redirect_uris.split():
            parsed = urlparse(uri)
            if parsed.scheme.lower() in UNSAFE_SCHEMES:
                raise ValidationError({"redirect_uris": _("This kind of address cannot receive a sign-in.")})
            if parsed.scheme == "http" and parsed.hostname not in LOOPBACK_HOSTS:
                raise ValidationError(
                    {"redirect_uris": _("Plain http is allowed only for a loopback address (127.0.0.1).")}
                )
        super().clean()
