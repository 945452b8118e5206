from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StepUpConfig(AppConfig):
    name = "django_stepup"
    verbose_name = _("Step-up authentication")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.core import checks
        from django.core.signals import setting_changed

        from . import checks as stepup_checks
        from . import policies, receivers, signals
        from .conf import reload_on_setting_changed

        checks.register(stepup_checks.check_settings, checks.Tags.security)
        setting_changed.connect(reload_on_setting_changed, dispatch_uid="django_stepup_settings")
        setting_changed.connect(policies.clear_scopes, dispatch_uid="django_stepup_policy_scopes")
        signals.token_created.connect(
            receivers.notify_token_created, dispatch_uid="django_stepup_notify_token_created"
        )
        # Load the declared scopes now so that their receivers (e.g. deleting the policies
        # of a deleted domain) are connected before the first request.
        policies.get_scopes()
