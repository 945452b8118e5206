from django.apps import AppConfig


class DNSAPIConfig(AppConfig):
    name = "dnsapi"
    verbose_name = "DNS API"
    default_auto_field = "django.db.models.BigAutoField"
