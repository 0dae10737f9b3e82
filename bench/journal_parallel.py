"""Journal appends per second with N writer processes, on N different records or all on one.

    DATABASE_URL=postgres://... python -m bench.journal_parallel [SECONDS]

Each writer is its own process (its own database session, as a web worker is) appending one
entry per transaction with ``journal_append``, straight to the journal (no policy decision), so
the figure is the journal's own: one chain per record means N writers on N records do not queue
on one lock; N writers on the same record do (their chain's head is one row).
"""

from __future__ import annotations

import multiprocessing
import sys
import time
import uuid


def _writer(start_at: float, seconds: float, record_uuid: str, counts) -> None:
    import django

    django.setup()
    from apps.access.journal import journal_append
    from apps.access.models import AccessEvent

    def append() -> None:
        journal_append(
            [
                AccessEvent(
                    record_uuid=record_uuid,
                    actor_role="patient",
                    action="record.view",
                    basis="owner",
                    outcome="allowed",
                    reason_code="owner",
                )
            ]
        )

    append()  # connection open, caches warm
    time.sleep(max(0.0, start_at - time.time()))
    count, end = 0, time.time() + seconds
    while time.time() < end:
        append()
        count += 1
    counts.put(count)


def run(writers: int, seconds: float, *, same_record: bool) -> float:
    records = [str(uuid.uuid4())] * writers if same_record else [str(uuid.uuid4()) for _ in range(writers)]
    counts: multiprocessing.Queue = multiprocessing.Queue()
    start_at = time.time() + 4
    processes = [
        multiprocessing.Process(target=_writer, args=(start_at, seconds, record, counts)) for record in records
    ]
    for process in processes:
        process.start()
    total = sum(counts.get() for _ in processes)
    for process in processes:
        process.join()
    return total / seconds


def main() -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "healthspace.settings")
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    for writers, same in ((1, False), (8, False), (8, True)):
        where = "the same record" if same else "different records"
        print(f"{writers} writer(s) on {where}: {run(writers, seconds, same_record=same):.0f} appends/s")


if __name__ == "__main__":
    main()
