"""The token inventory: every token with its owner, scope and risk flags.

Read by ``manage.py stepup_inventory`` and the admin's inventory page. The risks:

``never_expires``
    neither ``max_age`` nor ``max_unused_period`` is set;
``unused``
    not used (or, never used, not created) for ``stale_days`` days;
``unrestricted_api``
    an API token without policies: it reaches everything its flags allow;
``many_networks``
    used from more than ``max_networks`` networks (of the last ones remembered).

Internal: may change without notice.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_STALE_DAYS = 90
DEFAULT_MAX_NETWORKS = 3

RISKS = {
    "never_expires": _("never expires"),
    "unused": _("unused for a long time"),
    "unrestricted_api": _("unrestricted API token"),
    "many_networks": _("used from many networks"),
}


@dataclass(frozen=True)
class Thresholds:
    stale_days: int = DEFAULT_STALE_DAYS
    max_networks: int = DEFAULT_MAX_NETWORKS
    now: datetime = field(default_factory=timezone.now)

    @property
    def stale_before(self):
        return self.now - timedelta(days=self.stale_days)


def with_risk(queryset, risk, thresholds):
    """``queryset`` narrowed to the tokens that carry ``risk``."""
    if risk == "never_expires":
        return queryset.filter(max_age__isnull=True, max_unused_period__isnull=True)
    if risk == "unused":
        return queryset.alias(_seen=Coalesce("last_used", "created")).filter(
            _seen__lt=thresholds.stale_before
        )
    if risk == "unrestricted_api":
        return (
            queryset.filter(mfa__isnull=True).alias(_policies=Count("policies")).filter(_policies=0)
        )
    if risk == "many_networks":
        # JSON array lengths differ per database: compare in Python, select by key.
        pks = [
            pk
            for pk, networks in queryset.values_list("pk", "networks")
            if len(networks or []) > thresholds.max_networks
        ]
        return queryset.filter(pk__in=pks)
    raise ValueError(f"Unknown risk {risk!r}.")


def risks_of(token, policy_count, thresholds):
    """The names of the risks ``token`` carries (in :data:`RISKS` order)."""
    seen = token.last_used or token.created
    found = {
        "never_expires": token.max_age is None and token.max_unused_period is None,
        "unused": seen < thresholds.stale_before,
        "unrestricted_api": token.mfa is None and policy_count == 0,
        "many_networks": len(token.networks or []) > thresholds.max_networks,
    }
    return [risk for risk in RISKS if found[risk]]


def policy_summary(scopes):
    """``"unrestricted"`` or e.g. ``"rrsets: 3"`` from ``{scope: count}``."""
    if not scopes:
        return "unrestricted"
    return ", ".join(f"{scope}: {count}" for scope, count in sorted(scopes.items()))


def rows(thresholds, queryset=None):
    """One dict per token, owner then newest first; two queries whatever the count."""
    from .models import Token, TokenPolicy

    tokens = (queryset if queryset is not None else Token.objects.all()).select_related("user")
    scopes: dict = {}
    for token_id, scope, count in (
        TokenPolicy.objects.filter(token__in=tokens)
        .values_list("token_id", "scope")
        .annotate(count=Count("pk"))
        .values_list("token_id", "scope", "count")
    ):
        scopes.setdefault(token_id, {})[scope] = count
    result = []
    for token in tokens.order_by("user_id", "-created"):
        token_scopes = scopes.get(token.pk, {})
        result.append(
            {
                "id": str(token.pk),
                "owner": token.user.get_username(),
                "name": token.name,
                "kind": token.kind,
                "flags": "all" if token.mfa is not None else sorted(token.perms),
                "policies": policy_summary(token_scopes),
                "subnets": list(token.allowed_subnets),
                "networks": list(token.networks or []),
                "created": token.created,
                "last_used": token.last_used,
                "expires_at": token.expires_at,
                "risks": risks_of(token, sum(token_scopes.values()), thresholds),
            }
        )
    return result


def count_risks(inventory_rows):
    """``{risk: number of tokens}`` over rows of :func:`rows`."""
    return Counter(risk for row in inventory_rows for risk in row["risks"])


def per_user(queryset=None):
    """``[(username, user pk, api, login, total)]``, most tokens first."""
    from .models import Token

    tokens = queryset if queryset is not None else Token.objects.all()
    return [
        (row["username"], row["user"], row["api"], row["login"], row["total"])
        for row in tokens.values("user")
        .annotate(
            api=Count("pk", filter=Q(mfa__isnull=True)),
            login=Count("pk", filter=Q(mfa__isnull=False)),
            total=Count("pk"),
        )
        .order_by("-total", "user")
        .values("user", "api", "login", "total", username=_username_path())
    ]


def _username_path():
    from django.contrib.auth import get_user_model
    from django.db.models import F

    return F(f"user__{get_user_model().USERNAME_FIELD}")
