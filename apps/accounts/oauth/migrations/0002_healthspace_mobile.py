"""The first-party mobile app (and scripts): a public client, authorisation code with PKCE only."""

from django.db import migrations

CLIENT_ID = "healthspace-mobile"


def create(apps, schema_editor):
    Application = apps.get_model("oauth", "Application")
    Application.objects.get_or_create(
        client_id=CLIENT_ID,
        defaults={
            "name": "healthspace mobile",
            "client_type": "public",
            "authorization_grant_type": "authorization-code",
            # The app's own scheme, and a loopback address (any port, RFC 8252) for scripts.
            "redirect_uris": "healthspace://oauth/callback http://127.0.0.1/callback",
            "client_secret": "",
            "skip_authorization": False,
        },
    )


def remove(apps, schema_editor):
    apps.get_model("oauth", "Application").objects.filter(client_id=CLIENT_ID).delete()


class Migration(migrations.Migration):
    dependencies = [("oauth", "0001_application")]

    operations = [migrations.RunPython(create, remove)]
