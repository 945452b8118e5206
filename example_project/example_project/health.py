"""``GET /api/v1/health/``: can this worker reach its database and its shared cache?

``200 {"status": "ok", "database": "ok"[, "cache": "ok"]}``, or ``503`` with
``"unavailable"`` for what cannot be reached (and ``Retry-After``). The cache is
checked when ``CACHES`` names a shared one (not local memory). No authentication,
no details of the failure: load balancers and monitors call it.
"""

import logging

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)
RETRY_AFTER = 5

logger = logging.getLogger("example_project.health")


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache():
    caches["default"].get("example_project:health")


@method_decorator(never_cache, name="dispatch")
class HealthView(View):
    """GET only; anything else is ``405``."""

    def get(self, request):
        checks = {"database": _database}
        if settings.CACHES["default"]["BACKEND"] not in LOCAL_CACHES:
            checks["cache"] = _cache
        body = {}
        for name, check in checks.items():
            try:
                check()
            except Exception:  # any driver's or backend's error means: not reachable now
                logger.warning("Health check: the %s is unavailable.", name)
                body[name] = "unavailable"
            else:
                body[name] = "ok"
        healthy = all(state == "ok" for state in body.values())
        response = JsonResponse({"status": "ok" if healthy else "unavailable", **body})
        if not healthy:
            response.status_code = 503
            response["Retry-After"] = str(RETRY_AFTER)
        return response
