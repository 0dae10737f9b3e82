"""`make bench`: figures for the hot paths, on a throwaway test database."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import setup_test_environment, teardown_test_environment


def _rate(label: str, count: int, run: Callable[[], None], out) -> None:
    start = time.perf_counter()
    run()
    elapsed = time.perf_counter() - start
    out.write(
        f"{label:<48} {count:>6} in {elapsed:7.3f}s  {count / elapsed:9.1f}/s  {elapsed / count * 1000:7.2f} ms each"
    )


class Command(BaseCommand):
    help = "Print performance figures for the access policy, the journal and the main pages."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--n", type=int, default=500, help="Iterations per figure.")

    def handle(self, *args, n: int = 500, **options) -> None:
        setup_test_environment()
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            self._bench(n)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
            teardown_test_environment()

    def _bench(self, n: int) -> None:
        from apps.access.journal import journal_verify
        from apps.access.policy import Action, authorize, decide
        from apps.accounts.models import User
        from apps.records.services import dependent_create, record_create_own

        self.stdout.write(f"database: {connection.vendor}")
        alice = User.objects.create_user("bench@example.test", "bench-password-123")
        record = record_create_own(
            user=alice, family_name="Bench", given_names="Alice", birth_date=date(1980, 1, 1), sex="F"
        )
        for i in range(20):
            dependent_create(
                parent=alice, family_name="Bench", given_names=f"Child {i}", birth_date=date(2015, 1, 1), sex="M"
            )
        stranger = User.objects.create_user("stranger@example.test", "bench-password-123")

        _rate(
            "policy decision (no journal)",
            n,
            lambda: [decide(actor=alice, record=record, action=Action.RECORD_VIEW) for _ in range(n)],
            self.stdout,
        )
        _rate(
            "authorize = decision + journal entry",
            n,
            lambda: [authorize(actor=alice, record=record, action=Action.RECORD_VIEW) for _ in range(n)],
            self.stdout,
        )
        _rate(
            "denied authorize + journal entry",
            n,
            lambda: [authorize(actor=stranger, record=record, action=Action.RECORD_VIEW) for _ in range(n)],
            self.stdout,
        )
        total = journal_verify().verified
        _rate(f"verify_journal over {total} entries", total, journal_verify, self.stdout)

        client = Client()
        client.force_login(alice)
        pages = max(n // 10, 10)
        _rate("home page (21 records)", pages, lambda: [client.get("/") for _ in range(pages)], self.stdout)
        _rate("record page", pages, lambda: [client.get(f"/records/{record.uuid}/") for _ in range(pages)], self.stdout)
        _rate("API record list", pages, lambda: [client.get("/api/v1/records/") for _ in range(pages)], self.stdout)
