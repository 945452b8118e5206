"""Internal: the authentication SELECT (token, user, MFA state), compiled once per database.

Not public API. Compiling this three-table query through the ORM costs several times
more than running it, so its SQL and the plan that turns a row into the three
instances are built once per database alias and reused. The plan leans on the query
compiler (``klass_info``, ``select``, converters, related populators), which is not
public Django API, so every step is guarded: if building or using the plan fails, a
warning is logged once and that model and alias use the plain ORM query from then on (until
the settings change). ``STEPUP["FAST_AUTHENTICATION_LOOKUP"] = False`` turns it off.

What is cached holds no connection: the SQL string, the selected column expressions,
attribute names, slices, Django's related populators (model classes, field setters
and an alias) and the value converters that are verified not to close over a
connection. Converters bound to the backend's operations are stored unbound and bound
to the calling thread's connection at each use; any other converter is rebuilt per use.
"""

import enum
import logging
import threading
from typing import Final

from django.db import Error, connections
from django.db.models import Field, Model
from django.db.models.expressions import Col
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]  # internal, not in django-stubs

from .conf import stepup_settings

logger = logging.getLogger(__name__)

RELATED = ("user", "user__stepup_mfa_state")


class _Disabled(enum.Enum):
    """The marker of a model and alias that use the ORM query for good."""

    DISABLED = "disabled"


DISABLED: Final = _Disabled.DISABLED

_plans: dict[tuple[type[Model], str], "LookupPlan | _Disabled"] = {}
_lock = threading.Lock()


class LookupPlan:
    """The immutable parts of the compiled lookup for one database alias."""

    def __init__(self, manager, using):
        connection = connections[using]
        queryset = manager.select_related(*RELATED).filter(digest="")
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        if list(params) != [""]:
            raise ValueError("Unexpected parameters in the token lookup.")
        columns = tuple(column for column, *_ in compiler.select)
        if not all(isinstance(column, Col) for column in columns):
            raise TypeError("The token lookup selects more than plain columns.")
        selected = compiler.klass_info["select_fields"]
        self.sql = sql
        self.using = using
        self.model = manager.model
        self.token_columns = slice(selected[0], selected[-1] + 1)
        self.token_attnames = tuple(column.target.attname for column in columns[self.token_columns])
        self.converters = tuple(
            (position, expression, _cacheable(converters, connection))
            for position, (converters, expression) in compiler.get_converters(columns).items()
        )
        # Django 6.1 threads the queryset's fetch mode through the populators and from_db().
        # A mode that tracks peers keeps a list on the populator, which a cached plan must not.
        self.fetch_mode = getattr(queryset, "_fetch_mode", None)
        if getattr(self.fetch_mode, "track_peers", False):
            raise TypeError("The token lookup's fetch mode tracks peers.")
        fetch_mode = () if self.fetch_mode is None else (self.fetch_mode,)
        self.related_populators = tuple(
            get_related_populators(compiler.klass_info, compiler.select, using, *fetch_mode)
        )
        self.from_db_options = {} if self.fetch_mode is None else {"fetch_mode": self.fetch_mode}

    def get(self, digest):
        connection = connections[self.using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [digest])
            row = cursor.fetchone()
        if row is None:
            raise self.model.DoesNotExist
        if self.converters:
            row = self.convert(list(row), connection)
        token = self.model.from_db(
            self.using, self.token_attnames, row[self.token_columns], **self.from_db_options
        )
        for populator in self.related_populators:
            populator.populate(row, token)
        return token

    def convert(self, row, connection):
        ops = connection.ops
        for position, expression, converters in self.converters:
            value = row[position]
            if converters is None:
                for converter in ops.get_db_converters(expression) + expression.get_db_converters(
                    connection
                ):
                    value = converter(value, expression, connection)
            else:
                for function, bind_ops in converters:
                    if bind_ops:
                        value = function(ops, value, expression, connection)
                    else:
                        value = function(value, expression, connection)
            row[position] = value
        return row


def _cacheable(converters, connection):
    """``converters`` as ``(function, bind_to_ops)`` pairs holding no connection, or None.

    A method of the backend's operations is kept unbound (bound to the current
    connection's operations at each use); a method of a model field or a plain function
    without closure holds no connection. Anything else is rebuilt at each use (None).
    """
    cacheable = []
    for converter in converters:
        owner = getattr(converter, "__self__", None)
        if owner is connection.ops:
            cacheable.append((converter.__func__, True))
        elif isinstance(owner, Field) or (
            owner is None and getattr(converter, "__closure__", True) is None
        ):
            cacheable.append((converter, False))
        else:
            return None
    return tuple(cacheable)


def get_token(manager, digest):
    """The token with ``digest`` and its user and MFA state, in one SELECT."""
    key = (manager.model, manager.db)
    plan = _plans.get(key) if stepup_settings.FAST_AUTHENTICATION_LOOKUP else DISABLED
    if plan is None:
        plan = _build(manager, key)
    if plan is not DISABLED:
        try:
            return plan.get(digest)
        except (manager.model.DoesNotExist, Error):
            raise
        except Exception as error:  # any change of Django internals must fall back
            _disable(key, "using", error)
    return manager.select_related(*RELATED).get(digest=digest)


def _build(manager, key):
    plan: LookupPlan | _Disabled
    with _lock:
        if key in _plans:
            return _plans[key]
        try:
            plan = LookupPlan(manager, key[1])
        except Exception as error:  # any change of Django internals must fall back
            plan = DISABLED
            _warn(key, "building", error)
        _plans[key] = plan
        return plan


def _disable(key, step, error):
    with _lock:
        if _plans.get(key) is DISABLED:
            return
        _plans[key] = DISABLED
    _warn(key, step, error)


def _warn(key, step, error):
    # The error's message may quote row values (a digest, a password hash): its type only.
    model, using = key
    logger.warning(
        "The fast lookup of %s failed while %s (%s) on database %r; "
        "authentication uses the ORM query from now on.",
        model._meta.label,
        step,
        f"{type(error).__module__}.{type(error).__qualname__}",
        using,
    )


def clear(**kwargs):
    """Forget the plans (connected to ``setting_changed``): the next lookup rebuilds them."""
    if kwargs.get("setting", "STEPUP") in ("STEPUP", "DATABASES", "AUTH_USER_MODEL"):
        with _lock:
            _plans.clear()
