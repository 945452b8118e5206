"""The app configuration: system checks, settings reload and receivers, connected in ``ready()``.

Internal: may change without notice.
"""

import contextlib
from collections.abc import Callable
from typing import Any

from django.apps import AppConfig
from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _


class StepUpConfig(AppConfig):
    name = "django_stepup"
    verbose_name = _("Step-up authentication")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.core import checks
        from django.core.signals import setting_changed

        from . import _lookup, lifetimes, policies
        from . import checks as stepup_checks
        from .conf import reload_on_setting_changed

        checks.register(stepup_checks.check_settings, checks.Tags.security)
        checks.register(
            stepup_checks.check_admin_second_factor,
            checks.Tags.security,
            checks.Tags.admin,
            deploy=True,
        )
        checks.register(stepup_checks.check_authentication_classes, checks.Tags.security)
        checks.register(lifetimes.check_caps, checks.Tags.security, checks.Tags.database)
        checks.register(lifetimes.check_api_token_lifetimes, checks.Tags.security, deploy=True)
        setting_changed.connect(reload_on_setting_changed, dispatch_uid="django_stepup_settings")
        setting_changed.connect(_lookup.clear, dispatch_uid="django_stepup_token_lookup")
        setting_changed.connect(policies.clear_scopes, dispatch_uid="django_stepup_policy_scopes")
        self.connect_receivers()
        # Load the declared scopes now so that their receivers (e.g. deleting the policies
        # of a deleted domain) are connected before the first request. A declaration that
        # fails to load is reported by the system checks (django_stepup.E015 to E017).
        with contextlib.suppress(Exception):
            policies.get_scopes()
        self.load_schema_extensions()

    def load_schema_extensions(self):
        """drf-spectacular's extensions for the app, registered only if it is installed."""
        try:
            import drf_spectacular  # noqa: F401
        except ImportError:
            return
        from .contrib import spectacular  # noqa: F401

    def connect_receivers(self):
        from django.conf import settings
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_save, pre_save

        from . import audit, mfa_state, receivers, signals, throttling

        mfa_state.connect_device_receivers()
        user_model = settings.AUTH_USER_MODEL
        pre_save.connect(
            receivers.remember_password_change,
            sender=user_model,
            dispatch_uid="django_stepup_remember_password_change",
        )
        post_save.connect(
            receivers.revoke_on_password_change,
            sender=user_model,
            dispatch_uid="django_stepup_revoke_on_password_change",
        )
        notifications: list[tuple[Signal, Callable[..., Any]]] = [
            (signals.factor_activated, receivers.notify_factor_activated),
            (signals.factor_removed, receivers.notify_factor_removed),
            (signals.recovery_codes_generated, receivers.notify_recovery_codes_generated),
            (signals.token_created, receivers.notify_token_created),
            (signals.token_used_from_new_network, receivers.notify_token_used_from_new_network),
            (signals.token_reported_leaked, receivers.notify_token_reported_leaked),
            (signals.token_expiring, receivers.notify_token_expiring),
        ]
        for signal, receiver in notifications:
            signal.connect(receiver, dispatch_uid=f"django_stepup_{receiver.__name__}")
        # Successful logins make their network known to the account's login throttle.
        signals.login_succeeded.connect(
            throttling.remember_user_login, dispatch_uid="django_stepup_remember_api_login"
        )
        user_logged_in.connect(
            throttling.remember_user_login, dispatch_uid="django_stepup_remember_session_login"
        )
        audit_receivers: list[tuple[Signal, Callable[..., Any]]] = [
            (signals.login_succeeded, audit.record_login_succeeded),
            (signals.login_failed, audit.record_login_failed),
            (signals.step_up_succeeded, audit.record_step_up_succeeded),
            (signals.step_up_failed, audit.record_step_up_failed),
            (signals.factor_activated, audit.record_factor_activated),
            (signals.factor_removed, audit.record_factor_removed),
            (signals.recovery_codes_generated, audit.record_recovery_codes_generated),
            (signals.token_created, audit.record_token_created),
            (signals.tokens_revoked, audit.record_tokens_revoked),
            (signals.sign_count_regressed, audit.record_sign_count_regressed),
            (signals.token_changed, audit.record_token_changed),
            (signals.token_used_from_new_network, audit.record_token_used_from_new_network),
            (signals.token_reported_leaked, audit.record_token_reported_leaked),
        ]
        for signal, receiver in audit_receivers:
            signal.connect(receiver, dispatch_uid=f"django_stepup_audit_{receiver.__name__}")
