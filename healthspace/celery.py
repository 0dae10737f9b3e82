import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "healthspace.settings")

app = Celery("healthspace")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
