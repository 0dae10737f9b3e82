from typing import Any

from django.core.management.base import BaseCommand

from apps.access.checkpoints import write_checkpoint


class Command(BaseCommand):
    help = "Sign the head of every journal chain (Merkle root, Ed25519) into the checkpoint storage."

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = write_checkpoint()
        self.stdout.write(
            self.style.SUCCESS(
                f"Checkpoint {checkpoint.name}: {checkpoint.data['size']} chains, root {checkpoint.data['root']}."
            )
        )
