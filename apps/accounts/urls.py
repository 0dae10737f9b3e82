from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("security/", views.security, name="security"),
    path("security/two-factor/setup/", views.setup, name="two_factor_setup"),
    path("security/two-factor/verify/", views.verify, name="two_factor_verify"),
    path("security/two-factor/backup-codes/", views.backup_codes, name="two_factor_backup_codes"),
    path("security/two-factor/disable/", views.disable, name="two_factor_disable"),
]
