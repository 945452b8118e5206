"""Site-wide caps on API tokens' lifetimes: ``API_TOKEN_MAX_AGE``, ``API_TOKEN_MAX_UNUSED_PERIOD``.

With a cap set, an API token must have that lifetime field, no longer than the cap: a
request for a longer one, or for none (``null``), is refused naming the field. A token
issued without the field gets the cap (:func:`apply_caps`). Login tokens are governed
by ``LOGIN_TOKEN_MAX_AGE`` and ``LOGIN_TOKEN_MAX_UNUSED_PERIOD`` instead.

The system checks here: ``django_stepup.W040`` (deploy) when neither cap is set, so API
tokens may live forever; ``django_stepup.W041`` when existing API tokens exceed a cap
(the caps apply to new requests; existing tokens keep their lifetime until changed or
revoked), ``django_stepup.E040`` when a cap is no positive duration.

Internal: may change without notice.
"""

from datetime import timedelta

from django.core.checks import CheckMessage, Error, Warning
from django.db import DatabaseError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .conf import stepup_settings

W040_API_TOKENS_MAY_LIVE_FOREVER = "django_stepup.W040"
W041_TOKENS_EXCEED_CAP = "django_stepup.W041"
E040_BAD_CAP = "django_stepup.E040"

#: Each capped field and the setting that caps it.
CAPS = {"max_age": "API_TOKEN_MAX_AGE", "max_unused_period": "API_TOKEN_MAX_UNUSED_PERIOD"}


def caps():
    """``{field: cap}`` for each field whose cap is set."""
    result = {}
    for field, setting in CAPS.items():
        cap = getattr(stepup_settings, setting)
        if isinstance(cap, timedelta):
            result[field] = cap
    return result


def lifetime_errors(values):
    """``{field: [message]}`` for each capped field of ``values`` that is absent (None) or
    longer than its cap; fields not in ``values`` are not judged."""
    errors = {}
    for field, cap in caps().items():
        if field not in values:
            continue
        value = values[field]
        if value is None or value > cap:
            errors[field] = [
                _("API tokens on this site must have this set, to at most %(cap)s (%(setting)s).")
                % {"cap": cap, "setting": CAPS[field]}
            ]
    return errors


def apply_caps(fields):
    """``fields`` with each capped field that is missing set to its cap."""
    return {**{field: cap for field, cap in caps().items() if field not in fields}, **fields}


def check_api_token_lifetimes(app_configs=None, **kwargs):
    """W040 (deploy) when no cap is set."""
    if caps():
        return []
    return [
        Warning(
            "API tokens may live forever: neither STEPUP['API_TOKEN_MAX_AGE'] nor "
            "STEPUP['API_TOKEN_MAX_UNUSED_PERIOD'] is set.",
            hint="Cap API tokens' lifetime, e.g. API_TOKEN_MAX_UNUSED_PERIOD = timedelta(days=90).",
            id=W040_API_TOKENS_MAY_LIVE_FOREVER,
        )
    ]


def check_caps(app_configs=None, databases=None, **kwargs):
    """E040 for a cap that is no positive duration; W041 for existing tokens above a cap
    (only when the check may use the database, e.g. ``check --database default``)."""
    messages: list[CheckMessage] = []
    for setting in CAPS.values():
        cap = getattr(stepup_settings, setting)
        if cap is not None and (not isinstance(cap, timedelta) or cap <= timedelta(0)):
            messages.append(
                Error(f"STEPUP[{setting!r}] must be None or a positive timedelta.", id=E040_BAD_CAP)
            )
    if messages or not databases:
        return messages
    from .models import Token

    for field, cap in caps().items():
        over = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gt": cap})
        for alias in databases:
            try:
                count = Token.objects.using(alias).api_tokens().filter(over).count()
            except DatabaseError:  # not migrated yet
                continue
            if count:
                messages.append(
                    Warning(
                        f"{count} existing API token(s) on database {alias!r} have a "
                        f"{field} above STEPUP[{CAPS[field]!r}] ({cap}) or none.",
                        hint="The cap applies to new tokens and changes. List them with "
                        "manage.py stepup_inventory; shorten or revoke them.",
                        id=W041_TOKENS_EXCEED_CAP,
                    )
                )
    return messages
