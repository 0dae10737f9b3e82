from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "apps.access"
    label = "access"
    verbose_name = _("Access")

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun

        from apps.access.journal import task_finished, task_started

        # Each Celery task is a unit of work after which no denial is lost to a rollback.
        task_prerun.connect(task_started, weak=False, dispatch_uid="access.denials_kept.start")
        task_postrun.connect(task_finished, weak=False, dispatch_uid="access.denials_kept.finish")
