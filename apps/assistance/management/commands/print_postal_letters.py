"""The operator's print run of letters to post: each gets its code now, written only into its PDF."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.assistance.letters.services import postal_letters_print


class Command(BaseCommand):
    help = (
        "Print the letters waiting to be posted (new password, second-factor reset) into --out, one PDF "
        "each (mode 0600), with the address on record. Their codes exist only on these PDFs."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", required=True, help="Folder for the PDFs to print and post.")

    def handle(self, *args, out: str, **options) -> None:
        written = postal_letters_print(out_dir=out)
        for path in written:
            self.stdout.write(path)
        self.stdout.write(self.style.SUCCESS(f"{len(written)} letter(s) to post."))
