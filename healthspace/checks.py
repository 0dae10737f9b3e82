"""Start-up warnings that name each unsafe setting (shown by `migrate`, `check`, `runserver`).

Settings refuse what can never be right (DEBUG in production, no key, no shared
cache); these warnings name what is acceptable on a developer's machine but
must not reach a server.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Info, Tags, Warning, register

from healthspace import local_secrets


@register(Tags.security)
def debug_only_on_loopback(app_configs=None, **kwargs) -> list[Warning]:
    public = [host for host in settings.ALLOWED_HOSTS if host not in settings.LOOPBACK_HOSTS]
    if settings.DEBUG and public:
        return [
            Warning(
                f"DEBUG is on while ALLOWED_HOSTS names other machines ({', '.join(public)}).",
                hint="Debug pages show settings and health data to anyone who reaches them: set DEBUG=false.",
                id="healthspace.W001",
            )
        ]
    return []


@register(Tags.security)
def generated_secrets(app_configs=None, **kwargs) -> list[Warning]:
    folder = getattr(settings, "EMBEDDED_SECRETS_DIR", None)
    if folder is None:
        return []
    warnings = [
        Warning(
            f"The secret key and the document master key are generated ones, kept in {folder}.",
            hint=(
                "Fine for one machine: back that folder up with the database (without it, stored documents "
                "cannot be read). A server sets SECRET_KEY and DOCUMENT_MASTER_KEYS in its environment."
            ),
            id="healthspace.W002",
        )
    ]
    for path in (folder, folder / local_secrets.SECRET_KEY_FILE, folder / local_secrets.DOCUMENT_KEYS_FILE):
        if local_secrets.too_open(path):
            warnings.append(
                Warning(
                    f"{path} can be read by other users of this machine.",
                    hint=f"chmod {'700' if path == folder else '600'} {path}",
                    id="healthspace.W003",
                )
            )
    return warnings


@register(Tags.security)
def production_transport_and_cache(app_configs=None, **kwargs) -> list[Warning]:
    if not settings.PRODUCTION:
        return []
    warnings = []
    unsafe = [
        name
        for name, safe in (
            ("SECURE_SSL_REDIRECT", settings.SECURE_SSL_REDIRECT),
            ("SECURE_HSTS_SECONDS", settings.SECURE_HSTS_SECONDS > 0),
            ("SESSION_COOKIE_SECURE", settings.SESSION_COOKIE_SECURE),
            ("CSRF_COOKIE_SECURE", settings.CSRF_COOKIE_SECURE),
        )
        if not safe
    ]
    if unsafe:
        warnings.append(
            Warning(
                f"Production without HTTPS everywhere: {', '.join(unsafe)} off.",
                hint="Passwords, session cookies and health data would cross the network in clear text.",
                id="healthspace.W004",
            )
        )
    backend = settings.CACHES["default"]["BACKEND"]
    if not backend.endswith("RedisCache"):
        warnings.append(
            Warning(
                f"Production with a per-process cache ({backend}).",
                hint="Rate limits and lock-outs must be shared by every web process: set REDIS_URL.",
                id="healthspace.W005",
            )
        )
    return warnings


@register(Tags.security)
def journal_integrity_keys(app_configs=None, **kwargs) -> list[Warning | Info]:
    """The journal's MAC and signing keys must not live with the database, nor its checkpoints."""
    warnings: list[Warning | Info] = []
    folder = local_secrets.secrets_dir(settings.VAR_DIR)
    for name in (local_secrets.JOURNAL_KEYS_FILE, local_secrets.JOURNAL_SIGNING_KEY_FILE):
        if local_secrets.too_open(folder / name):
            warnings.append(
                Warning(
                    f"{folder / name} can be read by other users of this machine.",
                    hint=f"chmod 600 {folder / name}",
                    id="healthspace.W003",
                )
            )
    storage = settings.STORAGES[settings.JOURNAL_CHECKPOINT_STORAGE]["BACKEND"]
    if settings.PRODUCTION and storage.endswith("FileSystemStorage"):
        warnings.append(
            Info(
                "Production keeps the journal's signed checkpoints on this machine's disk.",
                hint=(
                    "Whoever can rewrite the database here could also rewrite them: set S3_BUCKET (or "
                    "JOURNAL_CHECKPOINT_BUCKET) to an object store in another account, ideally write-once."
                ),
                id="healthspace.I010",
            )
        )
    return warnings
