from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    """How documents come in: upload inspection, the import pipeline, its tasks and `import_records`.

    No models: the documents it files belong to `records`.
    """

    name = "apps.intake"
    label = "intake"
    verbose_name = _("Intake")
