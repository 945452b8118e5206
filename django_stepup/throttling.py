"""Login throttling that counts every attempt, failed ones included.

DRF's throttles run before the view and are skipped when authentication
fails, so they cannot count wrong passwords. Here each login attempt counts
against its account (the normalised login identifier: the value of the user
model's ``USERNAME_FIELD``) and its client address (``REMOTE_ADDR``) *before*
the password is checked, in the cache named by ``THROTTLE_CACHE``.

**A sliding window without edge bursts.** A rate of *L* per *P* seconds is *L*
slots per counted identifier. An attempt passes only if it takes a free slot
with ``cache.add(slot, expiry, timeout=P)``: ``add`` is atomic on Redis
(``SET NX``) and Memcached, and a slot stays taken for *P* seconds. So two
attempts that took the same slot are at least *P* seconds apart, and no interval
of *P* seconds ever admits more than *L* attempts, wherever it starts (a fixed
window admits *2L* across its boundary). One ``get_many`` finds the free slots;
workers that race for the same slot are decided by ``add``.

**No lockout by strangers.** Each account keeps the networks (IPv4 /24, IPv6
/64) it logged in from successfully, the :data:`KNOWN_NETWORKS` most recent for
:data:`KNOWN_NETWORK_MAX_AGE`. Attempts from those networks and attempts from
anywhere else count against two separate per-account budgets of
``LOGIN_RATE_PER_ACCOUNT`` each: wrong passwords from unknown networks cannot
make the owner's usual network wait. The per-address budget counts everything.
The set lives in the throttle cache, shared by all workers; a lost update (two
logins of one account at once) can only forget a network, never add one.

**Without the cache** (unreachable, or failing), :func:`login_wait` raises
:class:`ThrottleUnavailable` (``503`` with ``Retry-After``) unless
``THROTTLE_FAIL_OPEN`` is True: no login goes unthrottled by default.

Internal: may change without notice.
"""

import hashlib
import ipaddress
import logging
import math
import time
import unicodedata
from datetime import timedelta

from django.core.cache import caches
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status

from .conf import stepup_settings

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

#: How many recently successful networks an account keeps.
KNOWN_NETWORKS = 10
#: How long a network stays known after the account's last successful login from it.
KNOWN_NETWORK_MAX_AGE = timedelta(days=90)
#: Prefix lengths that make an address a network.
NETWORK_PREFIX = {4: 24, 6: 64}
#: Seconds a client is told to wait when the throttle cache is unavailable.
UNAVAILABLE_RETRY_AFTER = 30

logger = logging.getLogger("django_stepup.throttling")


class ThrottleUnavailable(exceptions.APIException):
    """The throttle cache cannot be reached, so the throttled endpoint refuses (fails closed)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("Login is temporarily unavailable. Try again later.")
    default_code = "throttle_unavailable"

    def __init__(self) -> None:
        super().__init__()
        self.wait = UNAVAILABLE_RETRY_AFTER


def parse_rate(rate):
    """``"10/min"`` -> ``(10, 60)``; the period is read from its first letter, as in DRF."""
    count, _sep, period = rate.partition("/")
    if not count.isdigit() or not period or period[0] not in PERIODS:
        raise ValueError(f"Invalid rate {rate!r}: expected '<count>/<s|min|hour|day>'.")
    return int(count), PERIODS[period[0]]


def hit(scope, identifier, rate):
    """Count one attempt; return the seconds to wait if the rate is exceeded, else 0.

    Cache errors propagate; :func:`login_wait` decides what they mean.
    """
    limit, period = parse_rate(rate)
    cache = caches[stepup_settings.THROTTLE_CACHE]
    base = f"django_stepup:throttle:{scope}:{_hash(identifier)}"
    slots = [f"{base}:{slot}" for slot in range(limit)]
    now = time.time()
    taken = cache.get_many(slots)
    for slot in slots:
        if slot not in taken and cache.add(slot, now + period, timeout=period):
            return 0
    taken = taken or cache.get_many(slots)
    soonest = min(taken.values(), default=now + 1)
    return max(1, math.ceil(soonest - now))


def normalise_identifier(identifier):
    """NFKC, trimmed, case-folded: spellings of one account share one count."""
    return unicodedata.normalize("NFKC", identifier).strip().casefold()


def network_of(address):
    """The network an address counts in (``"192.0.2.0/24"``), or ``""`` for no valid address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return str(ipaddress.ip_network(f"{ip}/{NETWORK_PREFIX[ip.version]}", strict=False))


def login_wait(request, identifier):
    """Count a login attempt for ``identifier`` from the request's address; seconds to wait or 0.

    Raises :class:`ThrottleUnavailable` when the cache fails, unless ``THROTTLE_FAIL_OPEN``.
    """
    account = normalise_identifier(identifier)
    address = request.META.get("REMOTE_ADDR") or ""
    per_account = stepup_settings.LOGIN_RATE_PER_ACCOUNT
    per_address = stepup_settings.LOGIN_RATE_PER_ADDRESS
    parse_rate(per_account), parse_rate(per_address)  # configuration errors are no outage
    try:
        network = network_of(address)
        known = bool(network) and network in _known_networks(account)
        scope = "login-account-known" if known else "login-account"
        return max(hit(scope, account, per_account), hit("login-address", address, per_address))
    except Exception:  # any backend's connection or server error: the cache is unavailable
        if stepup_settings.THROTTLE_FAIL_OPEN:
            logger.warning("Throttle cache unavailable; login not throttled (THROTTLE_FAIL_OPEN).")
            return 0
        logger.error("Throttle cache unavailable; login refused (fail closed).")
        raise ThrottleUnavailable from None


def remember_login(request, identifier):
    """Record a successful login of ``identifier``: its network becomes known to the account.

    Never raises: the login has succeeded; without the cache the network stays unknown.
    """
    network = network_of((request.META.get("REMOTE_ADDR") or "") if request else "")
    if not network:
        return
    key = _known_key(normalise_identifier(identifier))
    try:
        cache = caches[stepup_settings.THROTTLE_CACHE]
        networks = [n for n in (cache.get(key) or []) if n != network]
        networks = [network, *networks][:KNOWN_NETWORKS]
        cache.set(key, networks, timeout=int(KNOWN_NETWORK_MAX_AGE.total_seconds()))
    except Exception:  # any backend's connection or server error
        logger.warning("Throttle cache unavailable; the login's network was not remembered.")


def remember_user_login(sender, user, request=None, **kwargs):
    """Receiver of ``login_succeeded`` and Django's ``user_logged_in`` (the admin's login)."""
    if request is not None:
        identifier = user.get_username()
        transaction.on_commit(lambda: remember_login(request, identifier))


def _known_networks(account):
    return caches[stepup_settings.THROTTLE_CACHE].get(_known_key(account)) or []


def _known_key(account):
    return f"django_stepup:known-networks:{_hash(account)}"


def _hash(identifier):
    """Keep secrets-adjacent identifiers (emails) out of cache keys and their character limits."""
    return hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()
