"""Typed readers for configuration from the environment.

Each helper fails loudly, naming the variable, when a value is junk: a
misconfigured production must not start half-working.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    value = (environ if environ is not None else os.environ).get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ)
    return default if value is None else value


def env_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"Environment variable {name} must be a boolean (true/false, 1/0, yes/no), got {value!r}."
    )


def env_int(
    name: str,
    default: int,
    environ: Mapping[str, str] | None = None,
    minimum: int | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"Environment variable {name} must be a whole number, got {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"Environment variable {name} must be at least {minimum}, got {number}.")
    return number


def env_list(name: str, default: list[str], environ: Mapping[str, str] | None = None) -> list[str]:
    value = _raw(name, environ)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...], environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ)
    if value is None:
        return default
    if value not in choices:
        raise ImproperlyConfigured(f"Environment variable {name} must be one of {', '.join(choices)}, got {value!r}.")
    return value


def env_url(name: str, schemes: tuple[str, ...], environ: Mapping[str, str] | None = None) -> str | None:
    """A URL whose scheme is one of ``schemes``, or None when unset."""
    value = _raw(name, environ)
    if value is None:
        return None
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in schemes or not rest:
        raise ImproperlyConfigured(
            f"Environment variable {name} must be a URL starting with "
            f"{' or '.join(s + '://' for s in schemes)}, got {value.split('@')[-1]!r}."
        )
    return value


_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def env_key_ring(name: str, environ: Mapping[str, str] | None = None, key_bytes: int = 32) -> dict[str, bytes] | None:
    """Named raw keys written ``id:base64key,id:base64key`` (first = active), or None when unset.

    The dict keeps the written order, so its first entry is the active key.
    Messages name the variable and the key id but never echo key material.
    """
    value = _raw(name, environ)
    if value is None:
        return None
    ring: dict[str, bytes] = {}
    for position, entry in enumerate(value.split(","), start=1):
        key_id, sep, encoded = (part.strip() for part in entry.partition(":"))
        if not sep:
            raise ImproperlyConfigured(
                f"Environment variable {name} entry {position} must be written id:base64key, found no ':'."
            )
        if not key_id:
            raise ImproperlyConfigured(f"Environment variable {name} entry {position} has an empty key id.")
        if not _KEY_ID.fullmatch(key_id):
            raise ImproperlyConfigured(
                f"Environment variable {name} entry {position}: key id {key_id!r} must be 1-64 characters "
                "among letters, digits, '.', '_' and '-'."
            )
        if key_id in ring:
            raise ImproperlyConfigured(f"Environment variable {name} lists key id {key_id!r} twice.")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"Environment variable {name}: key {key_id!r} is not valid base64.") from None
        if len(key) != key_bytes:
            raise ImproperlyConfigured(
                f"Environment variable {name}: key {key_id!r} must decode to {key_bytes} bytes, got {len(key)}."
            )
        ring[key_id] = key
    return ring
