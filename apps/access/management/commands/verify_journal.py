from django.core.management.base import BaseCommand, CommandError

from apps.access.journal import journal_verify


class Command(BaseCommand):
    help = "Prove the access journal's hash chain is intact; exits non-zero naming the first broken entry."

    def handle(self, *args, **options) -> None:
        report = journal_verify()
        if not report.intact:
            where = (
                f"entry #{report.broken_at.seq} ({report.broken_at.uuid})"
                if report.broken_at is not None
                else "the chain's tip"
            )
            raise CommandError(
                f"Access journal BROKEN at {where}: {report.problem}. {report.verified} entries before it verified."
            )
        self.stdout.write(self.style.SUCCESS(f"Access journal intact: {report.verified} entries verified."))
