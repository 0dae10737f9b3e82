"""The benchmark's JSON file, its targets and the table it prints."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CEILING = "ceiling: + one indexed query"


def _runs(entry: dict) -> dict[int, dict]:
    return {run["concurrency"]: run for run in entry.get("runs", [])}


def _ceiling(results: dict) -> dict[int, dict]:
    for entry in results["endpoints"]:
        if entry["endpoint"] == CEILING:
            return _runs(entry)
    return {}


def ratios(results: dict) -> None:
    """Each run as a share of the ceiling's throughput and a multiple of its p95, same concurrency."""
    ceiling = _ceiling(results)
    for entry in results["endpoints"]:
        for run in entry.get("runs", []):
            base = ceiling.get(run["concurrency"])
            if base and base["rps"]:
                run["rps_ratio"] = round(run["rps"] / base["rps"], 3)
                run["p95_ratio"] = round(run["p95_ms"] / base["p95_ms"], 2) if base["p95_ms"] else None


def _find(results: dict, endpoint: str, patient: str) -> dict:
    return next((e for e in results["endpoints"] if e["endpoint"] == endpoint and e["patient"] == patient), {})


def targets(results: dict) -> list[dict]:
    """The issue's targets, each with the measured figure and whether it is met."""
    ratios(results)
    out = []

    def target(name: str, measured, met: bool) -> None:
        out.append({"target": name, "measured": measured, "met": bool(met)})

    for endpoint in ("summary page", "timeline page 1"):
        for patient in ("31", "2000"):
            runs = _runs(_find(results, endpoint, patient))
            worst = min((run.get("rps_ratio", 0) for run in runs.values()), default=0)
            name = f"{endpoint} ({patient} docs) ≥ 40% of the ceiling's throughput"
            target(name, f"{worst:.0%} (worst)", worst >= 0.4)
    for patient, limit in (("31", 200), ("2000", 300)):
        run = _runs(_find(results, "summary page", patient)).get(32, {})
        p95 = run.get("p95_ms")
        name = f"summary page p95 ≤ {limit} ms at 32 concurrent ({patient} docs)"
        target(name, p95, p95 is not None and p95 <= limit)
    small, large = _find(results, "summary page", "31"), _find(results, "summary page", "2000")
    for concurrency in (1, 8, 32):
        a, b = _runs(small).get(concurrency), _runs(large).get(concurrency)
        if a and b and a["p95_ms"]:
            ratio = round(b["p95_ms"] / a["p95_ms"], 2)
            target(f"summary p95(2000)/p95(31) ≤ 1.5 at {concurrency}", ratio, ratio <= 1.5)
    target(
        "summary: same query count for 31 and 2000 documents",
        f"{small.get('queries')} / {large.get('queries')}",
        small.get("queries") is not None and small.get("queries") == large.get("queries"),
    )
    errors = sum(run["errors"] + run["timeouts"] for e in results["endpoints"] for run in e.get("runs", []))
    failed = [f"{e['endpoint']} ({e['patient']})" for e in results["endpoints"] if e.get("status") != 200]
    target("zero errors", f"{errors} errors, {len(failed)} endpoints failing", errors == 0 and not failed)
    pipelines = results.get("pipelines", {})
    rate = pipelines.get("import", {}).get("documents_per_second")
    target("import ≥ 100 documents/s (one worker, 2 cores)", rate, rate is not None and rate >= 100)
    pdf: dict[str, Any] = next((p for p in pipelines.get("summary_pdf", []) if p["patient"] == "31"), {})
    target("summary PDF ≤ 2 s for 31 documents", pdf.get("p50_s"), pdf.get("p50_s") is not None and pdf["p50_s"] <= 2)
    appends = {row["writers"]: row["per_second"] for row in pipelines.get("journal_appends", [])}
    if 1 in appends and 8 in appends:
        scale = round(appends[8] / appends[1], 2) if appends[1] else 0
        target("journal appends scale with writers on different records (8 vs 1)", f"×{scale}", scale >= 3)
    return out


def write(results: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{stamp}-{results['git']['commit'][:10]}.json"
    text = json.dumps(results, indent=2, default=str)
    path.write_text(text)
    (folder.parent / "latest.json").write_text(text)
    return path


def table(results: dict) -> str:
    lines = []
    concurrencies = sorted({run["concurrency"] for e in results["endpoints"] for run in e.get("runs", [])})
    header = f"{'endpoint':<30} {'docs':>6} {'SQL':>4} {'KiB':>6}"
    for c in concurrencies:
        header += f" | c={c:<3} {'p50':>7} {'p95':>7} {'req/s':>6} {'ceil':>5}"
    lines.append(header)
    lines.append("-" * len(header))
    for entry in results["endpoints"]:
        row = f"{entry['endpoint'][:30]:<30} {entry['patient']:>6} {entry.get('queries', '-')!s:>4} "
        row += f"{entry.get('bytes', 0) / 1024:>6.0f}"
        runs = _runs(entry)
        for c in concurrencies:
            run = runs.get(c)
            if run is None:
                row += f" | {'':>5} {'':>7} {'':>7} {'':>6} {'':>5}"
                continue
            flag = "!" if run["errors"] or run["timeouts"] else " "
            ratio = f"{run['rps_ratio']:.0%}" if "rps_ratio" in run else "-"
            row += f" | {flag:>5} {run['p50_ms']:>7.0f} {run['p95_ms']:>7.0f} {run['rps']:>6.1f} {ratio:>5}"
        if entry.get("error"):
            row += f"  {entry['error']}"
        lines.append(row)
    lines.append("(latencies in ms; ceil = throughput as a share of the ceiling with one query; ! = errors)")
    pipelines = results.get("pipelines", {})
    lines.append("")
    for row in pipelines.get("journal_appends", []):
        lines.append(f"journal appends, {row['writers']:>2} writers on different records: {row['per_second']:>8.1f}/s")
    for row in pipelines.get("summary_pdf", []):
        lines.append(f"summary PDF, {row['patient']} documents: {row['p50_s']} s ({row['status']})")
    if "websocket" in pipelines:
        ws = pipelines["websocket"]
        lines.append(f"live notice, import done → browser: p50 {ws['p50_ms']} ms, max {ws['max_ms']} ms")
    if "import" in pipelines:
        lines.append(f"import: {json.dumps(pipelines['import'])}")
    for row in pipelines.get("login", []):
        lines.append(
            f"login at {row['concurrency']} concurrent: {row['per_second']}/s, p50 {row['p50_ms']} ms, "
            f"p95 {row['p95_ms']} ms, {row['errors']} errors"
        )
    if pipelines.get("export_zip"):
        lines.append(f"export ZIP: {pipelines['export_zip']}")
    lines.append("")
    lines.append("Targets:")
    for target in results.get("targets", []):
        lines.append(f"  [{'x' if target['met'] else ' '}] {target['target']}: {target['measured']}")
    top = results.get("top_queries")
    if isinstance(top, str):
        lines.append(f"\nTop queries: {top}")
    elif top:
        lines.append("\nTop queries by total time (pg_stat_statements):")
        for query in top[:5]:
            lines.append(f"  {query['total_ms']:>9} ms {query['calls']:>7} calls  {query['query'][:110]}")
    population = results.get("population", {})
    counts = json.dumps(population.get("counts"))
    lines.append(f"\nPopulation: {counts}; prepared in {population.get('prepare_seconds')} s")
    lines.append(f"Total: {results.get('total_seconds')} s")
    return "\n".join(lines)
