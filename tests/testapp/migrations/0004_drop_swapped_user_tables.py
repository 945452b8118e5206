"""Drop the test app's User tables when AUTH_USER_MODEL swaps that model out.

0001_initial creates them whatever AUTH_USER_MODEL says (the migration state does not
know the model is swappable). Under tests.settings_django_user nothing uses them, and
their foreign keys to auth_permission and auth_group would stop PostgreSQL from
flushing the database between tests.
"""

from django.conf import settings
from django.db import migrations


def drop_if_swapped(apps, schema_editor):
    if settings.AUTH_USER_MODEL.lower() != "testapp.user":
        schema_editor.delete_model(apps.get_model("testapp", "User"))


def create_if_swapped(apps, schema_editor):
    if settings.AUTH_USER_MODEL.lower() != "testapp.user":
        schema_editor.create_model(apps.get_model("testapp", "User"))


class Migration(migrations.Migration):
    dependencies = [
        ("testapp", "0003_keydevice"),
    ]

    operations = [
        migrations.RunPython(drop_if_swapped, create_if_swapped),
    ]
