"""The policy engine: scope declarations, pure matching, and the SQL form of the same rule.

A *policy scope* names a kind of object (``rrsets``) and its ordered *dimensions*
(``domain``, ``subname``, ``type``). A :class:`~django_stepup.models.TokenPolicy`
fixes some dimensions of one scope and leaves the others null (any value). For
an object, the most specific matching policy decides: comparing two matching
policies dimension by dimension from the left, the first dimension where one
is specified and the other null goes to the specified one. A token without
policies is unrestricted.

Public: :class:`PolicyScope`, :class:`Dimension`, :class:`ModelDimension`, :data:`READ`,
:data:`WRITE` and :func:`get_scope` (the names in ``__all__``). The matching and SQL
helpers below them are internal: they may change without notice.

This module holds no model import at module level; storing policies (with the
invariants and the row lock) lives in :mod:`django_stepup.policy_store`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import reduce
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .conf import stepup_settings

if TYPE_CHECKING:
    from django.db import models

    from .models import Token, TokenPolicy

__all__ = ["READ", "WRITE", "Dimension", "ModelDimension", "PolicyScope", "get_scope"]

#: :data:`READ` or :data:`WRITE`.
Action: TypeAlias = str
#: A dimension value as ``TokenPolicy.values`` stores it; None means "any".
StoredValue: TypeAlias = int | str | None
Values: TypeAlias = Mapping[str, StoredValue]

READ: Final = "read"
WRITE: Final = "write"
ACTIONS: tuple[Action, ...] = (READ, WRITE)


class PolicyLike(Protocol):
    """What matching reads from a policy (a :class:`~django_stepup.models.TokenPolicy`)."""

    @property
    def values(self) -> Values: ...
    @property
    def perm_read(self) -> bool: ...
    @property
    def perm_write(self) -> bool: ...


def jsonable(value: object) -> StoredValue:
    """The form a dimension value takes in ``TokenPolicy.values``: int, str or None."""
    if value is None or isinstance(value, str) or type(value) is int:
        return value
    return str(value)


def combination_digest(values: Values) -> str:
    """SHA-256 of a policy's values in canonical JSON: one row per combination and token."""
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Dimension:
    """One axis of a policy scope, stored as the client gives it (after ``normalise``).

    ``attribute``: how to read the value from an object, a dotted attribute path
    (default: the dimension's name) or a callable. ``lookup``: the ORM lookup the
    filter backend uses (default: ``attribute`` with dots as ``__``). ``field``: the
    DRF field that parses a client value (default: a string of up to 255
    characters, blank allowed, null meaning "any").
    """

    def __init__(
        self,
        name: str,
        *,
        attribute: str | Callable[[Any], object] | None = None,
        lookup: str | None = None,
        field: serializers.Field | None = None,
        normalise: Callable[[Any], object] | None = None,
    ) -> None:
        self.name = name
        self.attribute: str | Callable[[Any], object] = attribute or name
        if lookup is None:
            if callable(self.attribute):
                raise ImproperlyConfigured(
                    f"Dimension {name!r} reads its value with a callable; give it a lookup too."
                )
            lookup = self.attribute.replace(".", "__")
        self.lookup = lookup
        self.field = field
        self.normalise = normalise

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def get_field(self) -> serializers.Field:
        if self.field is not None:
            return copy.deepcopy(self.field)
        return serializers.CharField(
            max_length=255, allow_blank=True, allow_null=True, required=False, default=None
        )

    def value_of(self, obj: Any) -> StoredValue:
        if callable(self.attribute):
            return jsonable(self.attribute(obj))
        return jsonable(operator.attrgetter(self.attribute)(obj))

    def to_stored(self, value: Any, user: Any) -> StoredValue:
        """The stored form of a validated client value; raise ``ValidationError`` if invalid."""
        if value is None:
            return None
        return jsonable(self.normalise(value) if self.normalise else value)

    def prefetch(self, stored_values: Iterable[StoredValue]) -> Any:
        """Whatever :meth:`to_representation` needs for many values, loaded at once."""
        return None

    def to_representation(self, stored: StoredValue, prefetched: Any = None) -> Any:
        return stored

    def connect(self, scope: PolicyScope) -> None:
        """Connect the receivers this dimension needs (see :class:`ModelDimension`)."""


class ModelDimension(Dimension):
    """A dimension naming a model instance the user owns, stored by primary key.

    The client sends (and sees) ``to_field`` (e.g. the domain name); the policy
    stores the primary key, so a deleted and re-registered name does not inherit
    a grant, and deleting the instance deletes the policies that point at it.
    Another user's instance and a missing one give the same error.
    """

    def __init__(
        self,
        name: str,
        model: type[models.Model] | str,
        *,
        to_field: str = "name",
        owner_field: str = "owner",
        field: serializers.Field | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("attribute", f"{name}_id")
        super().__init__(name, field=field, **kwargs)
        self._model = model
        self.to_field = to_field
        self.owner_field = owner_field

    @property
    def model(self) -> type[models.Model]:
        if isinstance(self._model, str):
            from django.apps import apps

            self._model = apps.get_model(self._model)
        return self._model

    def get_field(self) -> serializers.Field:
        if self.field is not None:
            return copy.deepcopy(self.field)
        return serializers.CharField(max_length=255, allow_null=True, required=False, default=None)

    def to_stored(self, value: Any, user: Any) -> StoredValue:
        if value is None:
            return None
        pk = (
            self.model._default_manager.filter(**{self.to_field: value, self.owner_field: user})
            .values_list("pk", flat=True)
            .first()
        )
        if pk is None:
            raise serializers.ValidationError(
                _("There is no %(name)s %(value)r in this account.")
                % {"name": self.name, "value": value}
            )
        return jsonable(pk)

    def value_of_target(self, instance: models.Model) -> StoredValue:
        """The stored value naming ``instance`` itself (its primary key)."""
        return jsonable(instance.pk)

    def prefetch(self, stored_values: Iterable[StoredValue]) -> dict[StoredValue, Any]:
        pks = {value for value in stored_values if value is not None}
        if not pks:
            return {}
        rows = self.model._default_manager.filter(pk__in=pks).values_list("pk", self.to_field)
        return {jsonable(pk): label for pk, label in rows}

    def to_representation(
        self, stored: StoredValue, prefetched: Mapping[StoredValue, Any] | None = None
    ) -> Any:
        if stored is None:
            return None
        if prefetched is None:
            prefetched = self.prefetch([stored])
        return prefetched.get(stored)

    def connect(self, scope: PolicyScope) -> None:
        from django.db.models.signals import post_delete

        post_delete.connect(
            self._delete_policies(scope.name),
            sender=self.model,
            weak=False,
            dispatch_uid=f"django_stepup_policies_{scope.name}_{self.name}",
        )

    def _delete_policies(self, scope_name: str) -> Callable[..., None]:
        def delete_policies(
            sender: type[models.Model], instance: models.Model, **kwargs: Any
        ) -> None:
            from .models import TokenPolicy

            TokenPolicy.objects.filter(
                scope=scope_name, **{f"values__{self.name}": jsonable(instance.pk)}
            ).delete()

        return delete_policies


class PolicyScope:
    """A named kind of object that token policies can restrict.

    ``restrict_reads``: whether policies also decide reads (``perm_read``); by
    default reads are free and only writes need the deciding policy's ``perm_write``.
    """

    def __init__(
        self, name: str, dimensions: Sequence[Dimension], *, restrict_reads: bool = False
    ) -> None:
        if not dimensions:
            raise ImproperlyConfigured(f"Policy scope {name!r} needs at least one dimension.")
        names = [dimension.name for dimension in dimensions]
        if len(set(names)) != len(names):
            raise ImproperlyConfigured(f"Policy scope {name!r} repeats a dimension name.")
        self.name = name
        self.dimensions = list(dimensions)
        self.restrict_reads = restrict_reads

    def __repr__(self) -> str:
        return f"<PolicyScope {self.name} ({', '.join(self.dimension_names)})>"

    @property
    def dimension_names(self) -> list[str]:
        return [dimension.name for dimension in self.dimensions]

    @property
    def default_values(self) -> dict[str, StoredValue]:
        return dict.fromkeys(self.dimension_names)

    def values_of(self, obj: Any) -> dict[str, StoredValue]:
        """The object's value for every dimension, in stored form."""
        return {dimension.name: dimension.value_of(obj) for dimension in self.dimensions}

    def decides(self, action: Action) -> bool:
        """Whether policies decide ``action`` at all (reads only if ``restrict_reads``)."""
        return action == WRITE or self.restrict_reads

    def q(self, policies: Iterable[PolicyLike], action: Action) -> Q:
        """One ``Q`` selecting the objects ``policies`` allow ``action`` on.

        For each granting policy: it matches, and no more specific policy that could
        match the same object denies. Equivalent to :func:`is_allowed` per object.
        """
        return policy_q(policies, self.dimensions, action)


# -- pure matching ------------------------------------------------------------------------


def specificity(values: Values, dimension_names: Sequence[str]) -> tuple[bool, ...]:
    """Sort key: specified beats null, dimension by dimension from the left."""
    return tuple(values.get(name) is not None for name in dimension_names)


def matches(values: Values, object_values: Values, dimension_names: Sequence[str]) -> bool:
    return all(
        values.get(name) is None or values.get(name) == object_values.get(name)
        for name in dimension_names
    )


_P = TypeVar("_P", bound=PolicyLike)


def deciding_policy(
    policies: Iterable[_P], object_values: Values, dimension_names: Sequence[str]
) -> _P | None:
    """The most specific of ``policies`` matching the object, or None if none matches."""
    best: _P | None = None
    best_key: tuple[bool, ...] = ()
    for policy in policies:
        if not matches(policy.values, object_values, dimension_names):
            continue
        key = specificity(policy.values, dimension_names)
        if best is None or key > best_key:
            best, best_key = policy, key
    return best


def grants(policy: PolicyLike, action: Action) -> bool:
    return policy.perm_write if action == WRITE else policy.perm_read


def is_allowed(
    policies: Iterable[PolicyLike],
    object_values: Values,
    dimension_names: Sequence[str],
    action: Action,
) -> bool:
    """No policies: allowed. Otherwise the deciding policy's flag; no match: denied."""
    candidates = list(policies)
    if not candidates:
        return True
    policy = deciding_policy(candidates, object_values, dimension_names)
    return policy is not None and grants(policy, action)


# -- the same rule in SQL -----------------------------------------------------------------


def _policy_match_q(values: Values, dimensions: Sequence[Dimension]) -> Q | None:
    """The ``Q`` an object matching ``values`` satisfies; None for the default (everything).

    None, not ``Q()``: Django drops an empty ``Q`` from ``Q() | Q(x)``, which would turn
    "everything or x" into "x".
    """
    conditions = [
        Q(**{dimension.lookup: values[dimension.name]})
        for dimension in dimensions
        if values.get(dimension.name) is not None
    ]
    return reduce(operator.and_, conditions) if conditions else None


def _compatible(first: Values, second: Values, dimension_names: Sequence[str]) -> bool:
    """Whether one object could match both: no dimension where both are set and differ."""
    return all(
        first.get(name) is None or second.get(name) is None or first.get(name) == second.get(name)
        for name in dimension_names
    )


def any_of(conditions: Sequence[Q]) -> Q:
    """``conditions`` OR-ed as a balanced tree.

    ``a | b | c …`` compiles to one flat ``a OR b OR c …``, which SQLite parses into a tree
    as deep as the list is long and refuses past 1000 terms. Django flattens nested ORs,
    but never a negated node, so the halves are joined as ``NOT (NOT a AND NOT b)`` (De
    Morgan, which holds in SQL's three-valued logic too): the depth stays logarithmic and
    a token may hold as many policies as ``MAX_POLICIES_PER_TOKEN`` allows.
    """
    if len(conditions) == 1:
        return conditions[0]
    middle = len(conditions) // 2
    # ~Q(x) wraps x in a new negated node; ~x would only toggle x's own negation.
    return ~Q(~Q(any_of(conditions[:middle])), ~Q(any_of(conditions[middle:])))


def policy_q(policies: Iterable[PolicyLike], dimensions: Sequence[Dimension], action: Action) -> Q:
    """See :meth:`PolicyScope.q`. No policies: everything. No granting policy: nothing."""
    candidates = list(policies)
    if not candidates:
        return Q()
    names = [dimension.name for dimension in dimensions]
    allowed: list[Q] = []
    for policy in candidates:
        if not grants(policy, action):
            continue
        key = specificity(policy.values, names)
        # A more specific policy fixes at least one dimension: its condition is never None.
        overriding = [
            other_condition
            for other in candidates
            if not grants(other, action)
            and specificity(other.values, names) > key
            and _compatible(policy.values, other.values, names)
            and (other_condition := _policy_match_q(other.values, dimensions)) is not None
        ]
        condition = _policy_match_q(policy.values, dimensions)
        if overriding:
            excluded = ~any_of(overriding)
            condition = excluded if condition is None else condition & excluded
        elif condition is None:
            return Q()
        allowed.append(condition)
    if not allowed:
        return Q(pk__in=[])
    return any_of(allowed)


# -- scopes from settings -----------------------------------------------------------------

_scopes: dict[str, PolicyScope] | None = None


def get_scopes() -> dict[str, PolicyScope]:
    """Every declared scope by name, loaded from ``STEPUP["POLICY_SCOPES"]`` once."""
    global _scopes
    if _scopes is None:
        scopes: dict[str, PolicyScope] = {}
        for name, declaration in stepup_settings.POLICY_SCOPES.items():
            scope = import_string(declaration) if isinstance(declaration, str) else declaration
            if not isinstance(scope, PolicyScope):
                raise ImproperlyConfigured(
                    f"STEPUP['POLICY_SCOPES'][{name!r}] must be a PolicyScope or its dotted path."
                )
            if scope.name != name:
                raise ImproperlyConfigured(
                    f"STEPUP['POLICY_SCOPES'][{name!r}] declares a scope named {scope.name!r}."
                )
            for dimension in scope.dimensions:
                dimension.connect(scope)
            scopes[name] = scope
        _scopes = scopes
    return _scopes


def get_scope(name: str) -> PolicyScope:
    """The declared scope ``name``; ``LookupError`` if there is none."""
    try:
        return get_scopes()[name]
    except KeyError:
        raise LookupError(f"No policy scope {name!r} is declared.") from None


def clear_scopes(*, setting: str | None = None, **kwargs: Any) -> None:
    global _scopes
    if setting in (None, "STEPUP"):
        _scopes = None


# -- a token's policies, loaded once per request ------------------------------------------


def token_policies(token: Token) -> dict[str, list[TokenPolicy]]:
    """All of ``token``'s policies by scope: one query, cached on the token instance."""
    cached: dict[str, list[TokenPolicy]] | None = getattr(token, "_stepup_policies", None)
    if cached is None:
        from .models import TokenPolicy

        cached = {}
        for policy in TokenPolicy.objects.filter(token=token).only(
            "id", "scope", "values", "perm_read", "perm_write"
        ):
            cached.setdefault(policy.scope, []).append(policy)
        token._stepup_policies = cached  # type: ignore[attr-defined]
    return cached


def forget_policies(token: Token) -> None:
    token.__dict__.pop("_stepup_policies", None)


def is_restricted(token: Token) -> bool:
    """A token with any policy, in any scope, is restricted."""
    return bool(token_policies(token))


def token_allows(token: Token, scope: PolicyScope, object_values: Values, action: Action) -> bool:
    """Whether ``token`` may do ``action`` on an object with ``object_values`` in ``scope``.

    A restricted token without policies in this scope is denied whatever the scope
    decides: adding a scope never frees tokens restricted elsewhere.
    """
    if not scope.decides(action):
        return True
    policies = token_policies(token)
    if not policies:
        return True
    if scope.name not in policies:
        return False
    return is_allowed(policies[scope.name], object_values, scope.dimension_names, action)


def token_q(token: Token, scope: PolicyScope, action: Action) -> Q:
    """The ``Q`` narrowing a queryset to what ``token`` may do ``action`` on in ``scope``."""
    if not scope.decides(action):
        return Q()
    policies = token_policies(token)
    if not policies:
        return Q()
    if scope.name not in policies:
        return Q(pk__in=[])
    return scope.q(policies[scope.name], action)
