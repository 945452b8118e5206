"""The token lookup of authentication: the compiled fast path, its fallback and its setting."""

import gc
import logging
import types
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Field
from django.db.models.query import RelatedPopulator
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.query import Query
from django.test import override_settings
from django.utils import timezone

from django_stepup import _lookup
from django_stepup.models import MFAState, Token, mfa_enabled
from tests.factories import TokenFactory
from tests.utils import authenticated, in_parallel

LOGGER = "django_stepup._lookup"
FAST = {"FAST_AUTHENTICATION_LOOKUP": True}
ORM = {"FAST_AUTHENTICATION_LOOKUP": False}


@pytest.fixture
def fresh():
    """A lookup built from scratch (a settings change forgets the compiled plans)."""
    with override_settings(STEPUP=FAST):
        yield


def lookup(digest, django_assert_num_queries):
    """Look ``digest`` up in one SELECT; return the token and whether the ORM ran it."""
    with django_assert_num_queries(1) as context:
        token = Token.objects.get_for_authentication(digest)
    (query,) = context.captured_queries
    # QuerySet.get() limits the SELECT to MAX_GET_RESULTS rows; the compiled one needs no limit.
    return token, "LIMIT" in query["sql"].upper()


def fail_once(monkeypatch, owner, name, error):
    """Make Django's ``owner.name`` raise ``error`` on its next call only."""
    original = getattr(owner, name)
    state = {"failed": False}

    def failing(*args, **kwargs):
        if not state["failed"]:
            state["failed"] = True
            raise error
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing)


def _field_values(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@pytest.mark.parametrize("stepup", [FAST, ORM], ids=["fast", "orm"])
@pytest.mark.parametrize("with_state", [False, True])
def test_both_paths_equal_the_orm_query(db, stepup, with_state, django_assert_num_queries):
    token = TokenFactory(
        promoted=True,
        max_age=timedelta(days=1),
        max_unused_period=timedelta(hours=1),
        last_used=timezone.now(),
        allowed_subnets=["192.0.2.0/24", "2001:db8::/32"],
        perms=["create_domain"],
    )
    if with_state:
        MFAState.objects.create(user=token.user, enabled=True, failure_count=3)
    expected = Token.objects.select_related("user", "user__stepup_mfa_state").get(pk=token.pk)
    with override_settings(STEPUP=stepup):
        Token.objects.get_for_authentication(token.digest)  # the fast path builds its plan
        found, used_orm = lookup(token.digest, django_assert_num_queries)
        assert used_orm is (stepup is ORM)
        with django_assert_num_queries(0):
            assert _field_values(found) == _field_values(expected)
            assert _field_values(found.user) == _field_values(expected.user)
            if with_state:
                assert mfa_enabled(found.user) is True
                assert _field_values(found.user.stepup_mfa_state) == _field_values(
                    expected.user.stepup_mfa_state
                )
        # Without a row the flag is computed from the user's devices: none here.
        assert mfa_enabled(found.user) is with_state
    assert found._state.db == expected._state.db
    assert found._state.adding is False
    assert found.user._state.adding is False


@pytest.mark.parametrize("stepup", [FAST, ORM], ids=["fast", "orm"])
def test_an_unknown_digest_raises_does_not_exist_on_both_paths(db, stepup, caplog):
    with override_settings(STEPUP=stepup), caplog.at_level(logging.WARNING, logger=LOGGER):
        for _ in range(2):
            with pytest.raises(Token.DoesNotExist):
                Token.objects.get_for_authentication("0" * 64)
    assert caplog.records == []


@pytest.mark.usefixtures("fresh")
def test_a_failed_build_falls_back_to_the_orm_for_good_and_logs_once(
    db, monkeypatch, caplog, django_assert_num_queries
):
    token = TokenFactory()
    # Simulates a Django release whose compiler internals the fast path no longer fits.
    fail_once(monkeypatch, SQLCompiler, "as_sql", AttributeError("klass_info"))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for _ in range(3):
            found, used_orm = lookup(token.digest, django_assert_num_queries)
            assert found == token
            assert used_orm
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "building" in record.getMessage()
    assert "AttributeError" in record.getMessage()
    assert token.digest not in record.getMessage()


@pytest.mark.usefixtures("fresh")
def test_a_failure_while_using_falls_back_to_the_orm_for_good_and_logs_once(
    db, monkeypatch, caplog, django_assert_num_queries
):
    token = TokenFactory()
    assert lookup(token.digest, django_assert_num_queries) == (token, False)
    fail_once(monkeypatch, RelatedPopulator, "populate", TypeError(token.digest))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        with django_assert_num_queries(2):  # the failed fast SELECT, then the ORM's
            assert Token.objects.get_for_authentication(token.digest) == token
        for _ in range(2):
            assert lookup(token.digest, django_assert_num_queries) == (token, True)
    (record,) = caplog.records
    assert "using" in record.getMessage()
    assert "TypeError" in record.getMessage()
    assert token.digest not in record.getMessage()


@pytest.mark.usefixtures("fresh")
def test_a_database_error_propagates_and_keeps_the_fast_path(db, caplog, django_assert_num_queries):
    token = TokenFactory()

    def refuse_once(execute, sql, params, many, context):
        if not refused:
            refused.append(sql)
            raise OperationalError("database is locked")
        return execute(sql, params, many, context)

    refused = []
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        with connection.execute_wrapper(refuse_once), pytest.raises(OperationalError):
            Token.objects.get_for_authentication(token.digest)
        assert lookup(token.digest, django_assert_num_queries) == (token, False)
    assert caplog.records == []


def test_the_setting_off_uses_the_orm_and_on_again_the_fast_path(db, django_assert_num_queries):
    token = TokenFactory()
    with override_settings(STEPUP=ORM):
        assert lookup(token.digest, django_assert_num_queries) == (token, True)
    with override_settings(STEPUP=FAST):
        assert lookup(token.digest, django_assert_num_queries) == (token, False)


@pytest.mark.parametrize("stepup", [FAST, ORM], ids=["fast", "orm"])
def test_a_request_costs_one_select_on_both_paths(
    api_client, db, stepup, django_assert_num_queries
):
    token = TokenFactory(last_used=timezone.now())
    with override_settings(STEPUP=stepup):
        client = authenticated(api_client, token.secret)
        client.get("/whoami/")
        with django_assert_num_queries(1) as context:
            assert client.get("/whoami/").status_code == 200
    assert context.captured_queries[0]["sql"].lstrip().upper().startswith("SELECT")


# Code, classes and model fields hold no connection of their own; bound methods are traversed.
NOT_TRAVERSED = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, Field)


def _reachable(roots, limit=20000):
    """Objects reachable from ``roots``, not descending into :data:`NOT_TRAVERSED`."""
    seen, stack, found = set(), list(roots), []
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, NOT_TRAVERSED):
            continue
        seen.add(id(obj))
        found.append(obj)
        stack.extend(gc.get_referents(obj))
    return found


@pytest.mark.usefixtures("fresh")
def test_the_cached_plan_holds_no_connection_or_compiler(db):
    token = TokenFactory(last_used=timezone.now())
    Token.objects.get_for_authentication(token.digest)
    plans = [plan for plan in _lookup._plans.values() if plan is not _lookup.DISABLED]
    assert plans
    pinned = (BaseDatabaseWrapper, BaseDatabaseOperations, SQLCompiler, Query)
    assert not [obj for obj in _reachable(plans) if isinstance(obj, pinned)]


@pytest.mark.usefixtures("fresh")
def test_a_plan_built_in_one_thread_serves_another(transactional_db):
    token = TokenFactory(promoted=True, last_used=timezone.now(), perms=["create_domain"])
    expected = Token.objects.get_for_authentication(token.digest)

    def look_up():
        return Token.objects.get_for_authentication(token.digest)

    found, again = in_parallel(look_up, look_up)
    for other in (found, again):
        assert _field_values(other) == _field_values(expected)
        assert _field_values(other.user) == _field_values(expected.user)
