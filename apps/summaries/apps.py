from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SummariesConfig(AppConfig):
    name = "apps.summaries"
    label = "summaries"
    verbose_name = _("Patient summary")

    def ready(self) -> None:
        from apps.access.door import Entry, register
        from apps.access.policy import Resource
        from apps.summaries.exports import RESOURCE_LABEL, RESOURCE_TYPE

        # The door fetches and checks a summary PDF like any object of a record.
        register(
            "summaries.SummaryExport",
            Entry(
                RESOURCE_TYPE,
                record=lambda export: export.record,
                resource=lambda export, _action: Resource(RESOURCE_TYPE, export.uuid, str(RESOURCE_LABEL)),
                label=RESOURCE_LABEL,
            ),
        )
