from django.conf import settings
from django.db import models
from django.utils import timezone

from .validators import validate_domain_name, validate_subname, validate_ttl, validate_type


class Domain(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="domains"
    )
    name = models.CharField(max_length=253, unique=True, validators=[validate_domain_name])
    created = models.DateTimeField(default=timezone.now, editable=False)
    touched = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class RRset(models.Model):
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="rrsets")
    subname = models.CharField(max_length=178, blank=True, validators=[validate_subname])
    type = models.CharField(max_length=10, validators=[validate_type])
    ttl = models.PositiveIntegerField(validators=[validate_ttl])
    records = models.JSONField(default=list)
    created = models.DateTimeField(default=timezone.now, editable=False)
    touched = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "RRset"
        ordering = ["subname", "type"]
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "subname", "type"], name="dnsapi_rrset_unique_name_type"
            )
        ]

    def __str__(self):
        return f"{self.name} {self.type}"

    @property
    def name(self):
        prefix = f"{self.subname}." if self.subname else ""
        return f"{prefix}{self.domain.name}."
