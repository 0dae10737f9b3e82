from django.apps import AppConfig


class HealthspaceConfig(AppConfig):
    """The project itself, as an app: only to register its start-up checks."""

    name = "healthspace"
    verbose_name = "healthspace"

    def ready(self) -> None:
        from healthspace import checks  # noqa: F401  (registers the checks)
