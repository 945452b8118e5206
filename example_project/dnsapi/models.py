from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.utils import timezone

from . import dnssec
from .validators import (
    MAX_TTL,
    is_qname,
    validate_domain_name,
    validate_subname,
    validate_ttl,
    validate_type,
)

#: deSEC's defaults: the smallest TTL a new domain's RRsets may have, and the apex NS RRset.
DEFAULT_MINIMUM_TTL = 3600
DEFAULT_NAMESERVERS = ("ns1.example.net.", "ns2.example.org.")
NS_TTL = 3600


def default_minimum_ttl():
    """``DNSAPI_MINIMUM_TTL`` (default 3600, as deSEC's), read when a domain is created."""
    return getattr(settings, "DNSAPI_MINIMUM_TTL", DEFAULT_MINIMUM_TTL)


def nameservers():
    """``DNSAPI_NAMESERVERS``: the apex NS records of a new domain (absolute names)."""
    return list(getattr(settings, "DNSAPI_NAMESERVERS", DEFAULT_NAMESERVERS))


class DomainQuerySet(models.QuerySet):
    def responsible_for(self, qname):
        """The domain responsible for ``qname`` (its longest suffix among these domains),
        as a queryset of at most one; none for a name that can't be a DNS name.

        As deSEC's ``owns_qname``: case does not matter, a leading ``*.`` is ignored.
        """
        name = qname.lower().removeprefix("*.")
        if not is_qname(name):
            return self.none()
        labels = name.split(".")
        suffixes = [".".join(labels[index:]) for index in range(len(labels))]
        return self.filter(name__in=suffixes).order_by(Length("name").desc())[:1]

    def conflicting(self, name, owner):
        """Domains that make ``name`` unavailable to ``owner``, as at deSEC: a domain of that
        name (anyone's), or another account's domain above it (``name`` would be inside
        their zone) or below it (``name`` would cover their zone)."""
        labels = name.split(".")
        above = [".".join(labels[index:]) for index in range(1, len(labels))]
        others = models.Q(name__in=above) | models.Q(name__endswith=f".{name}")
        return self.filter(models.Q(name=name) | (others & ~models.Q(owner=owner)))


class Domain(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="domains"
    )
    name = models.CharField(max_length=253, unique=True, validators=[validate_domain_name])
    created = models.DateTimeField(default=timezone.now, editable=False)
    touched = models.DateTimeField(default=timezone.now)
    minimum_ttl = models.PositiveIntegerField(default=default_minimum_ttl)
    #: The public DNSKEY of the domain's key (see :mod:`dnsapi.dnssec`); no private key is kept.
    dnskey = models.TextField(default=dnssec.new_dnskey, editable=False)

    objects = DomainQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def keys(self):
        """The domain's DNSSEC public keys as deSEC lists them."""
        return [dnssec.key_object(self.name, self.dnskey)]

    def create_apex_ns(self, now):
        """The apex NS RRset every new domain gets, as at deSEC."""
        ttl = min(max(NS_TTL, self.minimum_ttl), MAX_TTL)
        return self.rrsets.create(
            subname="", type="NS", ttl=ttl, records=nameservers(), created=now, touched=now
        )


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
        return self.construct_name(self.subname, self.domain.name)

    @staticmethod
    def construct_name(subname, domain_name):
        """The absolute name of ``subname`` in ``domain_name``, with the trailing dot."""
        prefix = f"{subname}." if subname else ""
        return f"{prefix}{domain_name}."
