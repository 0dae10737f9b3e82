from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistanceConfig(AppConfig):
    name = "apps.assistance"
    label = "assistance"
    verbose_name = _("Support mandates")

    def ready(self) -> None:
        from apps.assistance import signals

        signals.connect()
