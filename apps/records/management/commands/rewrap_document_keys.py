"""Key rotation: re-wrap every stored blob's data key under the active master key.

The content is not re-encrypted (its bytes stay the same); only the small
wrapped key in each blob's header changes. Steps: put the new key first in
DOCUMENT_MASTER_KEYS (keeping the old one), run this command, then remove the
old key. Reads no content and so needs no access decision: it never decrypts
a document, only the data keys.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.records.services import document_keys_rewrap


class Command(BaseCommand):
    help = "Re-wrap the data key of every stored document (and preview) under the active master key."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would change, change nothing.")

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        active = settings.DOCUMENT_ACTIVE_KEY_ID
        done, already = document_keys_rewrap(dry_run=dry_run)
        verb = "would re-wrap" if dry_run else "re-wrapped"
        self.stdout.write(f"{verb} {done} blob(s); {already} already under key {active!r}.")
