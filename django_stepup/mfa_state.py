"""Whether MFA is on: the user's confirmed django-otp devices decide, ``MFAState.enabled`` caches.

MFA is enabled exactly when the user has a confirmed device of any installed
django-otp device model (every concrete subclass of :class:`django_otp.models.Device`:
TOTP, recovery codes of django-otp's static plugin, WebAuthn, …), however it was
created. ``MFAState.enabled`` is a copy of that rule that the authentication query
joins at no cost; it is kept current here:

- every save and delete of a device (``post_save`` / ``post_delete`` of each device
  model, connected in :meth:`StepUpConfig.ready`) recomputes it;
- a user without an ``MFAState`` row gets one, computed from the devices, the first
  time the flag is read (one query and one insert, once per user);
- migration ``0003_backfill_mfa_state`` set it for the devices that existed before.

Lowering the flag recomputes it under the ``MFAState`` row lock, so a factor added
concurrently is never missed. ``QuerySet.update()`` and ``bulk_create()`` of device
models send no signals and so bypass this module; a missing row is still computed.
"""

from django.apps import apps
from django.db import connections, router, transaction
from django.db.models import Value

CONFIRMATION_FIELDS = {"confirmed", "user", "user_id"}


def device_models():
    """Every installed concrete django-otp device model (``django_otp.device_classes``)."""
    from django_otp.models import Device

    return [
        model for model in apps.get_models() if issubclass(model, Device) and not model._meta.proxy
    ]


def has_confirmed_device(user_id, using=None):
    """Whether the user has a confirmed device of any device model: one query."""
    querysets = [
        model._base_manager.using(using)
        .filter(user_id=user_id, confirmed=True)
        .order_by()
        .values_list(Value(1))
        for model in device_models()
    ]
    if not querysets:
        return False
    first, *others = querysets
    if others:
        first = first.union(*others, all=True)
    return bool(first[:1])


def mfa_enabled(user):
    """The cached flag; a missing row is computed from the devices and stored, never 'off'."""
    from .models import MFAState

    try:
        return user.stepup_mfa_state.enabled
    except MFAState.DoesNotExist:
        pass
    using = router.db_for_write(MFAState, instance=user)
    state = MFAState(user=user, enabled=has_confirmed_device(user.pk, using))
    # A row created meanwhile (a device saved concurrently) wins; ours is only the default.
    MFAState.objects.using(using).bulk_create([state], ignore_conflicts=True)
    user.stepup_mfa_state = state
    return state.enabled


def default_enabled(user):
    """For ``get_or_create(defaults=…)`` of the app's own flows: a new row starts computed."""
    return lambda: has_confirmed_device(user.pk)


def sync_on_device_save(sender, instance, using, update_fields=None, **kwargs):
    """post_save of a device: a confirmed one turns the flag on, anything else recomputes it."""
    from .models import MFAState

    if update_fields is not None and not CONFIRMATION_FIELDS & set(update_fields):
        return
    if instance.confirmed:
        # One upsert; MySQL and MariaDB take no conflict target.
        target = connections[using].features.supports_update_conflicts_with_target
        MFAState.objects.using(using).bulk_create(
            [MFAState(user_id=instance.user_id, enabled=True)],
            update_conflicts=True,
            unique_fields=["user"] if target else None,
            update_fields=["enabled"],
        )
    else:
        _recompute(instance.user_id, using)


def sync_on_device_delete(sender, instance, using, **kwargs):
    """post_delete of a device: the user may have lost their last confirmed one."""
    _recompute(instance.user_id, using)


def _recompute(user_id, using):
    """Lower the flag if no confirmed device is left, deciding under the row lock.

    A missing row stays missing (it is computed when read), so a device deleted along
    with its user recreates nothing.
    """
    from .models import MFAState

    with transaction.atomic(using=using):
        state = MFAState.objects.using(using).select_for_update().filter(user_id=user_id).first()
        if state is None or not state.enabled:
            return
        if not has_confirmed_device(user_id, using):
            state.enabled = False
            state.save(update_fields=["enabled"])


def connect_device_receivers():
    from django.db.models.signals import post_delete, post_save

    for model in device_models():
        label = model._meta.label_lower
        post_save.connect(
            sync_on_device_save, sender=model, dispatch_uid=f"django_stepup_mfa_save_{label}"
        )
        post_delete.connect(
            sync_on_device_delete, sender=model, dispatch_uid=f"django_stepup_mfa_delete_{label}"
        )
