from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OAuthConfig(AppConfig):
    name = "apps.accounts.oauth"
    label = "oauth"
    verbose_name = _("Signed-in apps")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.accounts.oauth import schema, signals  # noqa: F401
