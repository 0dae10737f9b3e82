from datetime import date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.access.partitions import (
    MONTHS_AHEAD,
    PartitionReport,
    ensure_month_partition,
    ensure_partitions,
    is_partitioned,
    months_in_default,
    rows_in_default,
)


def _month(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError as error:
        raise CommandError(f"not a month (YYYY-MM): {value}") from error


class Command(BaseCommand):
    help = (
        "Create the access journal's monthly partitions ahead of time (PostgreSQL; idempotent). "
        "A month whose entries already sit in the default partition gets its partition and its "
        "entries are moved into it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ahead", type=int, default=MONTHS_AHEAD, help="months after the current one")
        parser.add_argument("--month", action="append", type=_month, default=[], help="also this month (YYYY-MM)")
        parser.add_argument(
            "--from-default", action="store_true", help="also every month that has entries in the default partition"
        )

    def handle(self, *args: Any, ahead: int, month: list[date], from_default: bool, **options: Any) -> None:
        if not is_partitioned():
            self.stdout.write("The access journal is not partitioned here (PostgreSQL only): nothing to do.")
            return
        report = ensure_partitions(ahead=ahead)
        extra = [*month, *(months_in_default() if from_default else [])]
        if extra:
            for wanted in extra:
                ensure_month_partition(wanted, report=report)
            report.rows_in_default = rows_in_default()
        self._print(report)

    def _print(self, report: PartitionReport) -> None:
        for name in report.created:
            moved = report.moved.get(name)
            self.stdout.write(
                f"Created {name}" + (f" ({moved} entries moved from the default partition)" if moved else "")
            )
        if not report.created:
            self.stdout.write("Every partition was already there.")
        if report.rows_in_default:
            self.stdout.write(
                self.style.WARNING(
                    f"{report.rows_in_default} entries are in the default partition: "
                    "run this command with --from-default to give their months partitions."
                )
            )
