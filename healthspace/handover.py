"""Handing work to Celery without ever losing it (DESIGN.md rule 4).

The row that describes the work is already committed. We stamp when it was
handed to the broker; if the broker is unreachable the stamp is cleared and a
periodic job hands it over again. The same rule picks what is stalled.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Model, Q
from django.utils import timezone

logger = logging.getLogger(__name__)

# Younger unstamped work may still be on its way to the broker.
GRACE = timedelta(minutes=1)
# Longer than a task's whole retry backoff: handed over and still not done means lost.
RETRY_AFTER = timedelta(minutes=15)


def hand_over(*, model: type[Model], pk: int, stamp: str, task) -> bool:
    """Send ``task.delay(pk)``, stamping ``stamp`` on the row; False when the broker is down."""
    model._default_manager.filter(pk=pk).update(**{stamp: timezone.now()})
    try:
        task.delay(pk)
    except Exception:  # broker unreachable: the periodic job will hand it over again
        model._default_manager.filter(pk=pk).update(**{stamp: None})
        logger.warning("%s %s left waiting: broker unavailable", model.__name__, pk, exc_info=True)
        return False
    return True


def stalled(*, stamp: str, created: str = "created_at") -> Q:
    """Work never handed over (and not brand new), or handed over too long ago."""
    now = timezone.now()
    return Q(**{f"{stamp}__isnull": True, f"{created}__lt": now - GRACE}) | Q(**{f"{stamp}__lt": now - RETRY_AFTER})
