"""deSEC's error bodies: any unknown object is ``404`` ``{"detail": "Not found."}``; errors
under /api/ are JSON (413 for an oversized body, 500)."""

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """DRF's handler, but a 404 never says what was not found: ``get_object_or_404``'s
    ``Http404("No Domain matches the given query.")`` would name the model."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    return drf_exception_handler(exc, context)


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def not_found(request, exception=None):
    """The project's ``handler404``: an API URL that matches no view answers as an unknown
    object; other URLs (the admin's) get Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": exceptions.NotFound.default_detail}, status=404)
    return defaults.page_not_found(request, exception)
