from django.core.management.base import BaseCommand

from apps.notifications import services


class Command(BaseCommand):
    help = "Send every message still waiting in the outbox, right now, in this process."

    def handle(self, *args, **options) -> None:
        sent = 0
        for message_id in services.outbox_pending_ids():
            try:
                sent += services.outbox_deliver(message_id=message_id)
            except Exception as error:  # noqa: BLE001 - report and go on with the rest
                self.stderr.write(f"message {message_id}: {error!r}")
        self.stdout.write(f"{sent} message(s) sent.")
