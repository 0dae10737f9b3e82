"""One journal writer for the benchmark: journaled decisions on one record, for a fixed time.

Run as its own process (`python -m bench.journal_writer START SECONDS USER_ID RECORD_UUID`) so
that N writers are N database sessions, as N web workers would be. Prints how many it wrote.
"""

from __future__ import annotations

import sys
import time


def main(start_at: float, seconds: float, user_id: int, record_uuid: str) -> None:
    import django

    django.setup()
    from apps.access.policy import Action, authorize
    from apps.accounts.models import User
    from apps.records.models import Record

    user = User.objects.get(pk=user_id)
    record = Record.objects.get(uuid=record_uuid)
    authorize(actor=user, record=record, action=Action.RECORD_VIEW)  # connection and caches warm
    time.sleep(max(0.0, start_at - time.time()))
    count, end = 0, time.time() + seconds
    while time.time() < end:
        authorize(actor=user, record=record, action=Action.RECORD_VIEW)
        count += 1
    print(count)


if __name__ == "__main__":
    main(float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
