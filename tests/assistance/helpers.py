"""Mandates made the way the rules now require: confirmed by the person, or countersigned by a manager."""

from __future__ import annotations

from apps.assistance import services
from apps.assistance.models import ConfirmationMethod, Mandate, StructureManager
from tests.factories import UserFactory, totp_device


def structure_manager(agent):
    """Another manager of the agent's structure, with a second factor: who countersigns paper mandates."""
    existing = StructureManager.objects.filter(structure_id=agent.support_structure_id).exclude(user=agent).first()
    if existing:
        return existing.user
    manager = UserFactory(display_name="Nadia Benali")
    totp_device(manager)
    StructureManager.objects.create(user=manager, structure_id=agent.support_structure_id)
    return manager


def mandate_for(agent, record, scopes, *, days: int = 30, confirm: bool = True) -> Mandate:
    """The person with a confirmed e-mail confirms it themselves; otherwise a paper mandate a manager countersigns."""
    by_person = bool(services.verified_email(record=record))
    if not by_person:
        structure_manager(agent)
    mandate = services.mandate_start(
        agent=agent,
        record=record,
        scopes=list(scopes),
        days=days,
        method=ConfirmationMethod.EMAIL_CODE if by_person else ConfirmationMethod.SIGNED_PAPER,
    )
    if not confirm:
        return mandate
    if by_person:
        return services.mandate_accept(actor=record.owner, mandate_uuid=mandate.uuid)
    return services.mandate_countersign(manager=structure_manager(agent), mandate_uuid=mandate.uuid)


def code_sent_to(email: str) -> str:
    """The six-digit code of the last mandate e-mail sent to ``email``."""
    import re

    from apps.notifications.models import OutboxMessage

    message = OutboxMessage.objects.filter(to=[email]).order_by("-pk").first()
    return re.search(r"\b(\d{6})\b", message.body).group(1)
