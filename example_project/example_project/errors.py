"""The project's ``handler500``: JSON under ``/api/``, a ``503`` when the database is away.

A request that fails because the database cannot be reached (a restart, a failover)
answers ``503 {"detail": ...}`` with ``Retry-After``; the transaction it was in rolled
back, and the next request opens a new connection (``CONN_HEALTH_CHECKS``). Any other
server error under ``/api/`` is ``500 {"detail": ...}``; the admin keeps Django's page.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.views import defaults

RETRY_AFTER = 5


def server_error(request):
    exception = sys.exc_info()[1]
    if isinstance(exception, (OperationalError, InterfaceError)):
        response = JsonResponse(
            {"detail": "The service is temporarily unavailable. Try again later."}, status=503
        )
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "A server error occurred."}, status=500)
    return defaults.server_error(request)
