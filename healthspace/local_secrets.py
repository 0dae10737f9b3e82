"""The embedded default's own secrets, generated on first start into VAR_DIR/secrets.

Without ``SECRET_KEY`` and ``DOCUMENT_MASTER_KEYS`` in the environment, the
embedded default (``make run``) must still never run on a value from the
repository: anyone could forge e-mail confirmation links and decrypt the
stored files. So the first start writes a random secret key and a random
document master key (files of mode 0600 in a folder of mode 0700) and every
later start reads them back.

These two files ARE the installation's keys: back them up with the database
and ``media/``. Without ``document_master_keys`` the stored documents cannot
be read. Production never uses them: it refuses to start without both keys
in the environment.

Several processes may start at once (a test run beside ``make run``): each
file appears atomically (written aside, then hard-linked into place, which
fails if another process got there first), so all of them read one value.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import stat
from pathlib import Path

SECRETS_FOLDER = "secrets"
SECRET_KEY_FILE = "secret_key"
DOCUMENT_KEYS_FILE = "document_master_keys"
JOURNAL_KEYS_FILE = "journal_keys"
JOURNAL_SIGNING_KEY_FILE = "journal_signing_key"


def secrets_dir(var_dir: Path) -> Path:
    return var_dir / SECRETS_FOLDER


def _new_secret_key() -> str:
    return secrets.token_urlsafe(50)


def _new_document_key_ring() -> str:
    # The same text as DOCUMENT_MASTER_KEYS ("id:base64key"), read by the same parser;
    # a random id so that a key ring from another installation is never mistaken for this one.
    return f"embedded-{secrets.token_hex(4)}:{base64.b64encode(os.urandom(32)).decode()}"


def _read_or_create(path: Path, make) -> str:
    """The file's content, written first with ``make()`` if it does not exist yet."""
    if not path.exists():
        path.parent.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # VAR_DIR: the database too
        path.parent.mkdir(mode=0o700, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(make() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another process wrote it first: use theirs
                os.link(aside, path)
        finally:
            aside.unlink(missing_ok=True)
    return path.read_text(encoding="ascii").strip()


def embedded_secret_key(var_dir: Path) -> str:
    return _read_or_create(secrets_dir(var_dir) / SECRET_KEY_FILE, _new_secret_key)


def embedded_document_key_ring(var_dir: Path) -> str:
    """The key ring text (``id:base64key``), parsed by ``healthspace.env.env_key_ring``."""
    return _read_or_create(secrets_dir(var_dir) / DOCUMENT_KEYS_FILE, _new_document_key_ring)


def embedded_journal_key_ring(var_dir: Path) -> str:
    """The access journal's MAC key ring (``id:base64key``), like the document key ring."""
    return _read_or_create(secrets_dir(var_dir) / JOURNAL_KEYS_FILE, _new_document_key_ring)


def embedded_journal_signing_key(var_dir: Path) -> str:
    """The seed (base64, 32 bytes) of the Ed25519 key that signs journal checkpoints."""
    return _read_or_create(
        secrets_dir(var_dir) / JOURNAL_SIGNING_KEY_FILE, lambda: base64.b64encode(os.urandom(32)).decode()
    )


def too_open(path: Path) -> bool:
    """True when a secret file or its folder can be read by anyone but its owner."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return False
    return bool(mode & 0o077)
