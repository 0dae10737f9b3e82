"""The benchmark population (issue 11). See bench/population/__init__.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench import population as bench


class Command(BaseCommand):
    help = (
        "Create the seeded benchmark population (10,000 patients, named patients with 31 to 10,000 documents, "
        "millions of journal rows) and write its manifest. Refused if it exists, unless --reset on a bench database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            choices=["default", "small"],
            default="default",
            help="small: 30 patients, named 31 and 300 only (for tests)",
        )
        parser.add_argument("--patients", type=int, help="Ordinary patients (default 10,000; small: 30).")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--journal-per-document", type=int, help="Journal rows per document (default 20).")
        parser.add_argument("--named", help="Document counts of the named patients, comma-separated.")
        parser.add_argument("--professionals", type=int)
        parser.add_argument("--agents", type=int)
        parser.add_argument(
            "--manifest",
            default=str(
                Path(getattr(settings, "VAR_DIR", Path(settings.BASE_DIR) / "var")) / "bench" / "population.json"
            ),
            help="Where to write the manifest JSON (default var/bench/population.json).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the previous bench population first (a database named *bench* only).",
        )

    def handle(self, *args, **options) -> None:
        overrides = {
            "patients": options["patients"],
            "seed": options["seed"],
            "journal_per_document": options["journal_per_document"],
            "named": None
            if options["named"] is None
            else tuple(int(n) for n in options["named"].split(",") if n.strip()),
            "professionals": options["professionals"],
            "agents": options["agents"],
        }
        if options["scale"] == "small":
            bench_options = bench.BenchOptions.small(**overrides)
        else:
            bench_options = bench.BenchOptions(**{k: v for k, v in overrides.items() if v is not None})
        if bench_options.patients < 0 or bench_options.journal_per_document < 1:
            raise CommandError("--patients must be 0 or more and --journal-per-document at least 1.")

        if options["reset"]:
            if "bench" not in bench.database_name().lower():
                raise CommandError(
                    f"--reset truncates the append-only access journal: refused on database "
                    f"{bench.database_name()!r}, whose name does not contain 'bench'."
                )
            bench.remove(self._log)
        elif bench.population_exists():
            raise CommandError(
                f"A bench population already exists (users @{bench.BENCH_DOMAIN}): nothing changed. "
                "Use --reset on a bench database to rebuild it."
            )

        start = time.perf_counter()
        manifest = bench.build(bench_options, self._log)
        manifest["seconds"] = round(time.perf_counter() - start, 1)
        path = Path(options["manifest"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        counts = ", ".join(f"{k} {v:,}" for k, v in manifest["counts"].items())
        self.stdout.write(self.style.SUCCESS(f"Bench population ready in {manifest['seconds']} s: {counts}."))
        self.stdout.write(f"Manifest: {path}")

    def _log(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()
