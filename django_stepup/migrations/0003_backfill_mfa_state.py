"""Turn MFA on for every user who already has a confirmed django-otp device.

Devices created before django-stepup was installed (or through the ORM before
MFAState followed the devices) left no MFAState row, or one saying "off". This
only ever turns the flag on: a device table that is not there yet must not turn
anyone's MFA off. Reversing it changes nothing.
"""

from django.apps import apps as global_apps
from django.db import migrations

BATCH = 500


def confirmed_device_users(apps, connection):
    """User ids with a confirmed device, over every installed django-otp device model."""
    from django_otp.models import Device

    tables = set(connection.introspection.table_names())
    user_ids = set()
    for model in global_apps.get_models():
        if not issubclass(model, Device) or model._meta.proxy:
            continue
        try:
            historical = apps.get_model(model._meta.label)
        except LookupError:  # the device app's migrations have not run yet
            continue
        if historical._meta.db_table not in tables:
            continue
        if not {"user_id", "confirmed"} <= {f.attname for f in historical._meta.concrete_fields}:
            # An app without migrations appears here without its relations; its table
            # was made from its current model, so that model reads it right.
            historical = model
        user_ids.update(
            historical._base_manager.using(connection.alias)
            .filter(confirmed=True)
            .values_list("user_id", flat=True)
            .distinct()
        )
    return user_ids


def backfill_mfa_state(apps, schema_editor):
    connection = schema_editor.connection
    MFAState = apps.get_model("django_stepup", "MFAState")
    states = MFAState._base_manager.using(connection.alias)
    user_ids = sorted(confirmed_device_users(apps, connection))
    for start in range(0, len(user_ids), BATCH):
        batch = user_ids[start : start + BATCH]
        states.filter(user_id__in=batch, enabled=False).update(enabled=True)
        existing = set(states.filter(user_id__in=batch).values_list("user_id", flat=True))
        states.bulk_create(
            [MFAState(user_id=user_id, enabled=True) for user_id in batch if user_id not in existing]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("django_stepup", "0002_auditevent"),
        ("otp_totp", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(backfill_mfa_state, migrations.RunPython.noop),
    ]
