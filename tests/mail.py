"""Mail backends for tests: one that cannot deliver, like an SMTP server that is not there."""

import smtplib

import django
from django.core.mail.backends.base import BaseEmailBackend
from django.test import override_settings


class FailingEmailBackend(BaseEmailBackend):
    """Every send raises, as Django's SMTP backend does when the server refuses or is down."""

    error = smtplib.SMTPException("The mail server is not there.")

    def send_messages(self, email_messages):
        raise self.error


class RefusingEmailBackend(FailingEmailBackend):
    """Every send raises ``ConnectionRefusedError`` (nothing listens on the SMTP port)."""

    error = ConnectionRefusedError(111, "Connection refused")


def mail_backend(path):
    """``override_settings`` making ``path`` the mail backend (``MAILERS`` from Django 6.1)."""
    if django.VERSION >= (6, 1):
        return override_settings(MAILERS={"default": {"BACKEND": path}})
    return override_settings(EMAIL_BACKEND=path)
