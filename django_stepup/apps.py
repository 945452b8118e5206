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
        from .conf import reload_on_setting_changed

        checks.register(stepup_checks.check_settings, checks.Tags.security)
        setting_changed.connect(reload_on_setting_changed, dispatch_uid="django_stepup_settings")
