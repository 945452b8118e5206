"""Login throttling that counts every attempt, failed ones included.

DRF's throttles run before the view and are skipped when authentication
fails, so they cannot count wrong passwords. Here each login attempt counts
against its account (the normalised login identifier: the value of the user
model's ``USERNAME_FIELD``) and its client address
(``REMOTE_ADDR``) *before* the password is checked, in fixed windows kept in
the cache named by ``THROTTLE_CACHE``. ``cache.add`` plus ``cache.incr`` is
atomic on Redis and Memcached, so workers sharing such a cache share the count.

Internal: may change without notice.
"""

import hashlib
import math
import time
import unicodedata

from django.core.cache import caches

from .conf import stepup_settings

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate):
    """``"10/min"`` -> ``(10, 60)``; the period is read from its first letter, as in DRF."""
    count, _, period = rate.partition("/")
    if not count.isdigit() or not period or period[0] not in PERIODS:
        raise ValueError(f"Invalid rate {rate!r}: expected '<count>/<s|min|hour|day>'.")
    return int(count), PERIODS[period[0]]


def hit(scope, identifier, rate):
    """Count one attempt; return the seconds to wait if the rate is exceeded, else 0."""
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    key = f"django_stepup:throttle:{scope}:{_hash(identifier)}:{window}"
    cache = caches[stepup_settings.THROTTLE_CACHE]
    cache.add(key, 0, timeout=period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.add(key, 1, timeout=period + 1)
        count = 1
    if count <= limit:
        return 0
    return max(1, math.ceil((window + 1) * period - now))


def normalise_identifier(identifier):
    """NFKC, trimmed, case-folded: spellings of one account share one count."""
    return unicodedata.normalize("NFKC", identifier).strip().casefold()


def login_wait(request, identifier):
    """Count a login attempt for ``identifier`` from the request's address; seconds to wait or 0."""
    account = normalise_identifier(identifier)
    address = request.META.get("REMOTE_ADDR") or ""
    return max(
        hit("login-account", account, stepup_settings.LOGIN_RATE_PER_ACCOUNT),
        hit("login-address", address, stepup_settings.LOGIN_RATE_PER_ADDRESS),
    )


def _hash(identifier):
    """Keep secrets-adjacent identifiers (emails) out of cache keys and their character limits."""
    return hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()
