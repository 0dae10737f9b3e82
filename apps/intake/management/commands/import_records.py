"""Bulk import of health documents (moving patients from another system), through the same pipeline as uploads."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from apps.intake.importing import files_under, import_file, import_service, import_totals, report_as_dict
from apps.records.models import Record


class Command(BaseCommand):
    help = (
        "Import files or folders. Each file is matched to a record by INS, else by family name, given name and "
        "birth date; --create-records creates a record for an unknown patient. Prints a report per file."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", help="Files or folders (read recursively).")
        parser.add_argument("--create-records", action="store_true", help="Create a record for an unknown patient.")
        parser.add_argument("--record", help="UUID of the record for files that name no patient (PDF, photos).")
        parser.add_argument("--operator", default="", help="Who instructs the import (for the journal).")
        parser.add_argument("--json", action="store_true", help="One JSON document on standard output.")

    def handle(
        self, *args, paths: list[str], create_records: bool, record: str | None, operator: str, json: bool, **options
    ) -> None:
        target = None
        if record:
            target = Record.objects.filter(uuid=record).first()
            if target is None:
                raise CommandError(f"No record with id {record}.")
        files = files_under(paths)
        missing = [str(path) for path in files if not path.exists()]
        if missing:
            raise CommandError(f"Not found: {', '.join(missing)}")
        actor = import_service(operator)
        reports = [import_file(path, actor=actor, create_records=create_records, record=target) for path in files]
        if json:
            self.stdout.write(_json_dump([report_as_dict(r) for r in reports]))
        else:
            for report in reports:
                self.stdout.write(self._line(report))
            counts = {o: sum(r.outcome == o for r in reports) for o in ("imported", "duplicate", "refused")}
            self.stdout.write(
                f"{len(reports)} file(s): {counts['imported']} imported, {counts['duplicate']} already there, "
                f"{counts['refused']} refused."
            )
            totals = import_totals(reports)
            formats = ", ".join(f"{name} {n}" for name, n in totals.formats.items()) or "none"
            self.stdout.write(f"Documents by format: {formats}.")
            self.stdout.write(f"Facts by kind, in {totals.documents} document(s):")
            for kind, n in totals.facts.items():
                self.stdout.write(f"  {kind:<13}{n:>7}")
        if reports and all(r.outcome == "refused" for r in reports):
            raise CommandError("No file could be imported.")

    @staticmethod
    def _line(report) -> str:
        if report.outcome == "refused":
            return f"REFUSED  {report.path}: {report.reason}"
        facts = ", ".join(f"{kind} {n}" for kind, n in sorted(report.facts.items())) or "no structured facts"
        text_only = f"; {report.codes_as_text_only} kept as text only" if report.codes_as_text_only else ""
        return (
            f"{report.outcome.upper():<9}{report.path} → {report.record_name} ({report.record}), "
            f"document {report.document}, {report.type}: {facts}{text_only}"
        )


def _json_dump(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
