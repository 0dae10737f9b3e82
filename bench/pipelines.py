"""What is not one request: journal appends by concurrent writers, the summary PDF, the live
notice after an import, the import itself, and logging in."""

from __future__ import annotations

import asyncio
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from bench.load import cookie_for, no_redirect
from bench.stack import PROXY_HEADERS, ROOT, Config


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def journal_appends(env: dict[str, str], writers: list[tuple[int, str]], counts: tuple[int, ...]) -> list[dict]:
    """Journaled decisions per second with 1, 8, 32 writers, each on a different record."""
    results, seconds = [], 3.0
    # One connection per writer process (the pool's default minimum is 2): 32 writers beside the
    # web workers must stay under PostgreSQL's max_connections.
    env = {**env, "DATABASE_POOL_MIN_SIZE": "1", "DATABASE_POOL_MAX_SIZE": "1"}
    for n in counts:
        start_at = time.time() + 6  # every writer's Django is up before the clock starts
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.journal_writer", str(start_at), str(seconds), str(user), record],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for user, record in writers[:n]
        ]
        total = sum(int(p.communicate()[0].strip() or 0) for p in processes)
        results.append({"writers": n, "appends": total, "per_second": round(total / seconds, 1)})
    return results


def summary_pdf(patients: dict[str, dict], names: tuple[str, ...]) -> list[dict]:
    """From the request to a PDF ready to download (built in the request or by the worker)."""
    from apps.accounts.models import User
    from apps.records.models import Record
    from apps.summaries.exports import summary_export_request
    from apps.summaries.models import FINISHED_STATUSES, SummaryExport

    results = []
    for name in names:
        patient = patients[name]
        user = User.objects.get(pk=patient["user_id"])
        record = Record.objects.get(uuid=patient["record_uuid"])
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            export = summary_export_request(actor=user, record=record, language="fr")
            while export.status not in FINISHED_STATUSES and time.perf_counter() - started < 120:
                time.sleep(0.05)
                export = SummaryExport.objects.get(pk=export.pk)
            timings.append(time.perf_counter() - started)
        results.append(
            {"patient": name, "status": export.status, "p50_s": round(statistics.median(timings), 2), "runs": 3}
        )
    return results


def _png(run: int) -> bytes:
    """A small photo of a paper document, different at each run (the same content is one document)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), ((run * 37) % 256, int(time.time() * 1000) % 256, 90)).save(buffer, "PNG")
    return buffer.getvalue()


async def _websocket_notice(config: Config, cookie: str, record_uuid: str, upload) -> float:
    import websockets

    url = f"ws://127.0.0.1:{config.port}/ws/records/{record_uuid}/"
    headers = {"Cookie": cookie, "Origin": f"https://127.0.0.1:{config.port}", **PROXY_HEADERS}
    async with websockets.connect(url, additional_headers=headers) as socket:
        document_uuid = await asyncio.to_thread(upload)
        while True:
            message = await asyncio.wait_for(socket.recv(), timeout=60)
            received = time.time()
            if document_uuid in message and '"ready"' in message:
                return received


def websocket_latency(config: Config, runs: int = 5) -> dict:
    """From the worker marking a document ready to the browser's socket receiving the notice.

    On a fresh account of its own: the seeded patients' records stay as seeded."""
    from apps.records.documents import document_upload
    from apps.records.models import Document
    from bench.documents import bench_owner

    user, record = bench_owner(label="bench-live")
    cookie = cookie_for(user.pk)
    latencies = []
    for run in range(runs):
        image = _png(run)

        def upload(image=image) -> str:
            return str(document_upload(actor=user, record=record, filename="photo.png", data=image).document.uuid)

        received = asyncio.run(_websocket_notice(config, cookie, str(record.uuid), upload))
        document = Document.objects.filter(record=record).order_by("-id").first()
        if document is not None and document.processed_at is not None:
            latencies.append((received - document.processed_at.timestamp()) * 1000)
    return {
        "runs": runs,
        "received": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
    }


def _login_once(config: Config, email: str, password: str) -> tuple[float, int]:
    """The login form as a browser submits it: GET (CSRF cookie), then POST. Seconds and final status."""
    base = f"https://127.0.0.1:{config.port}"
    started = time.perf_counter()
    request = urllib.request.Request(f"{config.base_url}/accounts/login/", headers=PROXY_HEADERS)
    with urllib.request.urlopen(request, timeout=60) as response:
        page = response.read().decode()
        cookies = [h.split(";", 1)[0] for h in response.headers.get_all("Set-Cookie") or []]
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if match is None:
        raise RuntimeError("the login page carries no CSRF token")
    token = match.group(1)
    body = urllib.parse.urlencode({"login": email, "password": password, "csrfmiddlewaretoken": token}).encode()
    post = urllib.request.Request(
        f"{config.base_url}/accounts/login/",
        data=body,
        headers={**PROXY_HEADERS, "Cookie": "; ".join(cookies), "Referer": f"{base}/accounts/login/", "Origin": base},
    )
    try:
        with no_redirect.open(post, timeout=60) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return time.perf_counter() - started, status


def login(config: Config, accounts: list[str], password: str) -> list[dict]:
    """Logging in, apart: the password hash (deliberately slow) dominates it."""
    results = []
    for concurrency in (1, 8):
        batch = accounts[: max(concurrency * 4, 8)]
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            outcomes = list(pool.map(lambda email: _login_once(config, email, password), batch))
        elapsed = time.perf_counter() - started
        timings = [seconds * 1000 for seconds, _ in outcomes]
        results.append(
            {
                "concurrency": concurrency,
                "logins": len(batch),
                "per_second": round(len(batch) / elapsed, 1),
                "p50_ms": round(_percentile(timings, 50), 1),
                "p95_ms": round(_percentile(timings, 95), 1),
                # A successful login answers with a redirect to the home page.
                "errors": sum(1 for _, status in outcomes if status != 302),
            }
        )
    return results
