from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.access.verification import verify_journal


class Command(BaseCommand):
    help = (
        "Check the access journal: links and MACs of every chain (since the last verified checkpoint, "
        "or all with --full) and every chain head against the last signed checkpoint. Exits non-zero "
        "naming each problem."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--full", action="store_true", help="walk every chain from its first entry")

    def handle(self, *args: Any, full: bool = False, **options: Any) -> None:
        report = verify_journal(full=full)
        if not report.intact:
            raise CommandError(
                "Access journal BROKEN:\n  "
                + "\n  ".join(report.problems)
                + f"\n{report.verified} entries verified otherwise."
            )
        against = f" against {report.checkpoint.name}" if report.checkpoint else " (no checkpoint yet)"
        self.stdout.write(self.style.SUCCESS(f"Access journal intact: {report.verified} entries verified{against}."))
