"""Security catalogue A (MFA bypass), B (TOTP replay and window), C (brute force)."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_totp.models import TOTPDevice

from django_stepup import signals
from django_stepup.models import MFAState, Token, mfa_enabled

from .security_fixtures import *  # noqa: F403
from .security_fixtures import (
    API,
    PASSWORD,
    SecurityClient,
    catch,
    code,
    in_parallel,
    login_token,
    mfa_user,
    token_client,
)

PUBLIC = "public"
LOGIN_ANY = "login-any"  # any valid token (login tokens even unpromoted; see the view)
MFA = "mfa-required"  # login tokens of users with MFA must be promoted
POLICY = "policy-governed"  # MFA-required, and the token's policies decide per object
ADMIN = "admin"  # the OTP-enforcing Django admin site

#: Every route of the example project and every method it answers: what guards it.
ROUTES = {
    "api/v1/auth/login/": {"POST": PUBLIC},
    "api/v1/health/": {"GET": PUBLIC},
    # The OpenAPI schema and its Swagger UI describe the API to anyone; they hold no data.
    "api/v1/schema/": {"GET": PUBLIC},
    "api/v1/schema/ui/": {"GET": PUBLIC},
    "api/v1/auth/logout/": {"POST": LOGIN_ANY},
    "api/v1/auth/account/": {"GET": LOGIN_ANY},
    "api/v1/auth/totp/": {"GET": LOGIN_ANY, "POST": MFA},
    "api/v1/auth/totp/<int:pk>/": {"DELETE": MFA},
    "api/v1/auth/totp/<int:pk>/verify/": {"POST": LOGIN_ANY},
    "api/v1/auth/mfa/verify/": {"POST": LOGIN_ANY},
    "api/v1/auth/webauthn/": {"GET": LOGIN_ANY, "POST": MFA},
    "api/v1/auth/webauthn/challenge/": {"POST": LOGIN_ANY},
    "api/v1/auth/webauthn/<int:pk>/": {"DELETE": MFA},
    "api/v1/auth/webauthn/<int:pk>/verify/": {"POST": LOGIN_ANY},
    "api/v1/auth/passkey/challenge/": {"POST": PUBLIC},
    "passkeys/": {"GET": PUBLIC},
    "api/v1/auth/recovery-codes/": {"POST": MFA},
    "api/v1/auth/events/": {"GET": MFA},
    "api/v1/auth/leaked-secrets/": {"POST": PUBLIC},  # signed by a secret scanner instead
    "api/v1/auth/tokens/": {"GET": MFA, "POST": MFA},
    "api/v1/auth/tokens/<str:pk>/": {"GET": MFA, "PUT": MFA, "PATCH": MFA, "DELETE": MFA},
    "api/v1/auth/tokens/<str:token_id>/policies/<str:scope>/": {"GET": MFA, "POST": MFA},
    "api/v1/auth/tokens/<str:token_id>/policies/<str:scope>/<str:pk>/": {
        "GET": MFA,
        "PUT": MFA,
        "PATCH": MFA,
        "DELETE": MFA,
    },
    "api/v1/domains/": {"GET": MFA, "POST": MFA},
    "api/v1/^domains/(?P<name>[^/]+)/$": {"GET": MFA, "DELETE": MFA},
    "api/v1/^domains/(?P<name>[^/]+)/rrsets/$": {
        "GET": POLICY,
        "POST": POLICY,
        "PUT": POLICY,
        "PATCH": POLICY,
    },
    "api/v1/^domains/(?P<name>[^/]+)/rrsets/(?P<subname>[^/]*)\\.\\.\\./(?P<type>[^/]+)/$": {
        "GET": POLICY,
        "PUT": POLICY,
        "PATCH": POLICY,
        "DELETE": POLICY,
    },
    "api/v1/^domains/(?P<name>[^/]+)/rrsets/(?P<subname>[^/]*)@/(?P<type>[^/]+)/$": {
        "GET": POLICY,
        "PUT": POLICY,
        "PATCH": POLICY,
        "DELETE": POLICY,
    },
    "api/v1/^domains/(?P<name>[^/]+)/rrsets/(?P<subname>[^/]+)/(?P<type>[^/]+)/$": {
        "GET": POLICY,
        "PUT": POLICY,
        "PATCH": POLICY,
        "DELETE": POLICY,
    },
}
STEP_UP_GUARDED = [
    (route, method)
    for route, methods in ROUTES.items()
    for method, kind in methods.items()
    if kind in (MFA, POLICY)
]


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def answered_methods(pattern):
    """The HTTP methods a route's view handles (HEAD and OPTIONS aside)."""
    actions = getattr(pattern.callback, "actions", None)
    if actions is not None:
        return {method.upper() for method in actions} - {"HEAD", "OPTIONS"}
    view_class = pattern.callback.view_class
    return {
        method.upper()
        for method in view_class.http_method_names
        if method not in ("head", "options") and hasattr(view_class, method)
    }


def concrete(route, world):
    """A real URL for ``route`` with alice's objects in it."""
    url = "/" + route
    is_policy = "<str:token_id>" in route
    for placeholder, value in {
        "<int:pk>": world.Fa.pk,
        "<str:token_id>": world.Aa.token.pk,
        "<str:scope>": "rrsets",
        "<str:pk>": world.Aa_www.pk if is_policy else world.Aa.token.pk,
        "(?P<name>[^/]+)": "a.example",
        "(?P<subname>[^/]*)\\.\\.\\.": "www...",
        "(?P<subname>[^/]*)@": "www@",
        "(?P<subname>[^/]+)": "www",
        "(?P<type>[^/]+)": "A",
    }.items():
        url = url.replace(placeholder, str(value))
    return url.replace("/^", "/").removesuffix("$")


def assert_step_up_challenge(response, max_age=None):
    assert response.status_code == 401, response.content
    header = response["WWW-Authenticate"]
    assert header.startswith('Token error="insufficient_user_authentication"')
    assert response.json()["code"] == "mfa_required"
    if max_age is not None:
        assert f"max_age={max_age}" in header


def verify(client, factor, value):
    return client.post(f"{API}/auth/totp/{factor.pk}/verify/", {"code": value})


def mid_step(seconds=15):
    """A moment ``seconds`` into the current 30 s TOTP step (tests run at a known phase)."""
    now = timezone.now()
    return (
        now.replace(microsecond=0) - timedelta(seconds=now.second % 30) + timedelta(seconds=seconds)
    )


# -- A: MFA bypass / step-up integrity ------------------------------------------------------


def test_A01_every_route_is_classified():
    """A route or method nobody classified fails here: decide how it is guarded first."""
    unclassified = []
    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith("admin/"):
            continue
        declared = set(ROUTES.get(route, {}))
        if declared != answered_methods(pattern):
            unclassified.append((route, sorted(answered_methods(pattern) - declared)))
    assert not unclassified
    assert set(ROUTES) <= {route for route, _ in walk(get_resolver().url_patterns)}


def test_A01_admin_routes_are_behind_the_otp_admin_site():
    assert isinstance(admin.site, OTPAdminSite)
    admin_routes = [r for r, _ in walk(get_resolver().url_patterns) if r.startswith("admin/")]
    assert admin_routes


@pytest.mark.parametrize(("route", "method"), STEP_UP_GUARDED)
def test_A01_unpromoted_login_token_gets_the_step_up_challenge(world, snapshot, route, method):
    before = snapshot()
    body = {"name": "x", "subname": "www", "type": "A", "ttl": 3600, "records": ["192.0.2.7"]}
    response = world.La0.generic(
        method, concrete(route, world), data=json.dumps(body), content_type="application/json"
    )
    assert_step_up_challenge(response)
    assert snapshot() == before


def test_A02_mfa_is_read_only(world, snapshot):
    before = snapshot()
    own = f"{API}/auth/tokens/{world.La0.token.pk}/"
    assert_step_up_challenge(world.La0.patch(own, {"mfa": True}))
    for target in (world.La1.token, world.Aa.token):
        for body in ({"mfa": None}, {"mfa": False}, {"mfa_at": "2099-01-01T00:00:00Z"}):
            response = world.La1.patch(f"{API}/auth/tokens/{target.pk}/", body)
            assert response.status_code == 400
            assert response.json() == {next(iter(body)): ["This field is read-only."]}
    assert snapshot() == before


def test_A03_unpromoted_token_creates_no_token(world, snapshot):
    before = snapshot()
    for body in ({"name": "x"}, {"perm_manage_tokens": True}):
        response = world.La0.post(f"{API}/auth/tokens/", body)
        assert_step_up_challenge(response)
        assert "token" not in response.json()
    assert snapshot() == before


def test_A04_unpromoted_token_adds_no_factor(world, snapshot):
    before = snapshot()
    response = world.La0.post(f"{API}/auth/totp/", {"name": "new"})
    assert_step_up_challenge(response)
    assert not {"secret", "uri", "qr"} & set(response.json())
    assert snapshot() == before


def test_A05_unpromoted_token_changes_no_factor(world, snapshot):
    before = snapshot()
    url = f"{API}/auth/totp/{world.Fa.pk}/"
    assert_step_up_challenge(world.La0.patch(url, {"name": "x"}))
    assert_step_up_challenge(world.La0.delete(url))
    assert snapshot() == before


def test_A06_factor_deletion_needs_a_fresh_promotion(world):
    Token.objects.filter(pk=world.La1.token.pk).update(
        mfa_at=timezone.now() - timedelta(minutes=10)
    )
    url = f"{API}/auth/totp/{world.Fa.pk}/"
    assert_step_up_challenge(world.La1.delete(url), max_age=300)
    assert TOTPDevice.objects.filter(pk=world.Fa.pk).exists()
    assert verify(world.La1, world.Fa, code(world.Fa)).status_code == 200
    removed = catch(signals.factor_removed)
    assert world.La1.delete(url).status_code == 204
    assert [event["mfa_enabled"] for event in removed] == [False]
    assert not mfa_enabled(get_user_model().objects.get(pk=world.alice.pk))
    # Removing an active factor revokes the user's other login tokens; API tokens stay.
    assert not Token.objects.filter(pk=world.La0.token.pk).exists()
    assert Token.objects.filter(pk=world.Aa.token.pk).exists()


def test_A07_api_token_never_verifies(world, snapshot):
    before = snapshot()
    response = verify(world.Aa, world.Fa, code(world.Fa))
    assert response.status_code == 403
    assert response.json() == {"detail": "This endpoint needs a login token."}
    assert snapshot() == before
    assert Token.objects.get(pk=world.Aa.token.pk).mfa is None


def test_A08_other_users_factor_is_404_and_untouched(world, snapshot):
    before = snapshot()
    response = verify(world.La0, world.Fb, "123456")
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/auth/tokens/"),
        ("post", "/auth/tokens/"),
        ("post", "/auth/totp/"),
        ("get", "/domains/"),
        ("get", "/domains/a.example/rrsets/"),
        ("post", "/domains/a.example/rrsets/"),
        ("delete", "/domains/a.example/rrsets/www.../A/"),
    ],
)
def test_A09_django_session_is_no_token(world, snapshot, method, path):
    before = snapshot()
    client = SecurityClient(enforce_csrf_checks=False)
    client.force_login(world.alice)
    response = getattr(client, method)(f"{API}{path}", {"name": "x"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert snapshot() == before


def test_A10_admin_needs_otp_before_token_pages(world, snapshot):
    get_user_model().objects.filter(pk=world.alice.pk).update(is_staff=True, is_superuser=True)
    before = snapshot()
    client = SecurityClient()
    client.force_login(world.alice)
    assert client.get("/admin/django_stepup/token/add/").status_code == 302
    response = client.post("/admin/django_stepup/token/add/", {"user": world.alice.pk, "name": "x"})
    assert response.status_code == 302
    assert snapshot() == before


def test_A11_mfa_state_is_evaluated_per_request(world):
    assert world.Lc0.get(f"{API}/domains/").status_code == 200
    enroller = token_client(*login_token(world.carol, mfa=False))
    factor_id = enroller.post(f"{API}/auth/totp/", {"name": "phone"}).json()["id"]
    factor = TOTPDevice.objects.get(pk=factor_id)
    assert verify(enroller, factor, code(factor)).status_code == 200
    assert_step_up_challenge(world.Lc0.get(f"{API}/domains/"))


def test_A12_unconfirmed_factor_neither_enables_mfa_nor_promotes(world):
    factor_id = world.Lc0.post(f"{API}/auth/totp/", {"name": "attacker"}).json()["id"]
    factor = TOTPDevice.objects.get(pk=factor_id)
    assert world.Lc0.get(f"{API}/auth/account/").json()["mfa_enabled"] is False
    response = world.Lc0.post(f"{API}/auth/mfa/verify/", {"code": code(factor)})
    assert response.status_code == 400
    assert Token.objects.get(pk=world.Lc0.token.pk).mfa is False
    login = SecurityClient().post(
        f"{API}/auth/login/", {"email": "carol@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    carol = token_client(None, login.json()["token"])
    assert carol.get(f"{API}/domains/").status_code == 200


def test_A13_in_place_promotion_keeps_the_tokens_bounds(world):
    """Deviation (documented): promotion keeps the secret. The promoted secret is still
    bound by the token's allow-list and absolute lifetime."""
    Token.objects.filter(pk=world.La0.token.pk).update(allowed_subnets=["192.0.2.0/24"])
    inside = {"REMOTE_ADDR": "192.0.2.10"}
    response = world.La0.post(
        f"{API}/auth/totp/{world.Fa.pk}/verify/", {"code": code(world.Fa)}, **inside
    )
    assert response.status_code == 200
    assert "token" not in response.json()
    token = Token.objects.get(pk=world.La0.token.pk)
    assert token.mfa is True
    assert token.created == world.La0.token.created
    assert token.max_age == world.La0.token.max_age
    assert world.La0.get(f"{API}/domains/", **inside).status_code == 200
    assert world.La0.get(f"{API}/domains/", REMOTE_ADDR="198.51.100.1").status_code == 401
    with time_machine.travel(token.created + token.max_age + timedelta(seconds=1)):
        assert world.La0.get(f"{API}/domains/", **inside).status_code == 401


def test_A14_api_tokens_manage_no_tokens_factors_or_policies(world, snapshot):
    Token.objects.filter(pk=world.Aa.token.pk).update(perms=["manage_tokens"])
    before = snapshot()
    policies = f"{API}/auth/tokens/{world.Aa.token.pk}/policies/rrsets/"
    for method, url in (
        ("get", f"{API}/auth/tokens/"),
        ("post", f"{API}/auth/tokens/"),
        ("post", f"{API}/auth/totp/"),
        ("post", policies),
    ):
        response = getattr(world.Aa, method)(url, {"name": "x"})
        assert response.status_code == 403, url
        assert "WWW-Authenticate" not in response
    assert snapshot() == before


@pytest.mark.parametrize("extra", [{"mfa": True}, {"mfa": None}, {"perm_manage_tokens": True}])
def test_A15_login_rejects_privilege_fields(world, snapshot, extra):
    before = snapshot()
    response = SecurityClient().post(
        f"{API}/auth/login/", {"email": "alice@example.com", "password": PASSWORD, **extra}
    )
    assert response.status_code == 400
    assert set(response.json()) == set(extra)
    assert snapshot() == before


def test_A16_stale_promotion_is_challenged_with_max_age(world):
    Token.objects.filter(pk=world.La1.token.pk).update(mfa_at=timezone.now() - timedelta(days=1))
    url = f"{API}/auth/recovery-codes/"
    assert_step_up_challenge(world.La1.post(url), max_age=300)
    assert verify(world.La1, world.Fa, code(world.Fa)).status_code == 200
    assert world.La1.post(url).status_code == 201


# -- B: TOTP replay and window --------------------------------------------------------------


def test_B01_a_code_promotes_once(world):
    value = code(world.Fa)
    assert verify(world.La0, world.Fa, value).status_code == 200
    last_t = TOTPDevice.objects.get(pk=world.Fa.pk).last_t
    other = token_client(*login_token(world.alice, mfa=False))
    response = verify(other, world.Fa, value)
    assert response.status_code == 400
    assert response.json() == {"code": ["Invalid code."]}
    assert TOTPDevice.objects.get(pk=world.Fa.pk).last_t == last_t
    assert Token.objects.get(pk=other.token.pk).mfa is False


def test_B02_reused_code_does_not_refresh_mfa_at(world):
    value = code(world.Fa)
    assert verify(world.La0, world.Fa, value).status_code == 200
    mfa_at = Token.objects.get(pk=world.La0.token.pk).mfa_at
    assert verify(world.La0, world.Fa, value).status_code == 400
    assert Token.objects.get(pk=world.La0.token.pk).mfa_at == mfa_at


def test_B03_last_t_is_monotonic(world, no_back_off):
    with time_machine.travel(mid_step(), tick=False):
        assert verify(world.La0, world.Fa, code(world.Fa, 0)).status_code == 200
        last_t = TOTPDevice.objects.get(pk=world.Fa.pk).last_t
        assert verify(world.La0, world.Fa, code(world.Fa, -1)).status_code == 400
        assert TOTPDevice.objects.get(pk=world.Fa.pk).last_t == last_t


@pytest.mark.parametrize(("steps", "status"), [(-1, 200), (1, 200), (-2, 400), (2, 400)])
def test_B04_window_is_one_step_each_way(db, steps, status, no_back_off):
    user, factor = mfa_user(f"window{steps}@example.com")
    client = token_client(*login_token(user, mfa=False))
    with time_machine.travel(mid_step(), tick=False):
        assert verify(client, factor, code(factor, steps)).status_code == status
    assert MFAState.objects.get(user=user).failure_count == (0 if status == 200 else 1)


def test_B04_drift_cannot_wander_beyond_the_tolerance(db, no_back_off):
    """django-otp's sync moves the window one step per success at its edge; we cap it."""
    user, factor = mfa_user("drift@example.com")
    client = token_client(*login_token(user, mfa=False))
    with time_machine.travel(mid_step(), tick=False):
        assert verify(client, factor, code(factor, 1)).status_code == 200
        assert verify(client, factor, code(factor, 2)).status_code in (200, 400)
        assert verify(client, factor, code(factor, 3)).status_code == 400
    factor.refresh_from_db()
    assert abs(factor.drift) <= factor.tolerance


def _parallel_verify(world, count):
    value = code(world.Fa)
    clients = [token_client(*login_token(world.alice, mfa=False)) for _ in range(count)]
    statuses = in_parallel(*(lambda c=c: verify(c, world.Fa, value).status_code for c in clients))
    return statuses, clients


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs parallel connections")
@pytest.mark.parametrize("count", [2, 20])
def test_B05_parallel_verify_promotes_exactly_once(world, count):
    statuses, clients = _parallel_verify(world, count)
    assert statuses.count(200) == 1
    assert set(statuses) - {200} <= {400, 429}  # a replay, or refused during the back-off
    promoted = Token.objects.filter(pk__in=[c.token.pk for c in clients], mfa=True)
    assert promoted.count() == 1
    fresh = token_client(*login_token(world.alice, mfa=False))
    with CaptureQueriesContext(connection) as queries:
        verify(fresh, world.Fa, code(world.Fa, 1))
    assert any("FOR UPDATE" in query["sql"] for query in queries.captured_queries)


def test_B08_code_from_the_previous_step_and_after_2038(world, no_back_off):
    for start in (
        mid_step(29.9),
        datetime(2040, 1, 1, 0, 0, 29, 900000, tzinfo=UTC),  # T beyond 32 bits (RFC 6238)
    ):
        Token.objects.filter(pk=world.La0.token.pk).update(created=start, last_used=None)
        with time_machine.travel(start, tick=False) as traveller:
            value = code(world.Fa)
            traveller.move_to(start + timedelta(seconds=0.3))
            assert verify(world.La0, world.Fa, value).status_code == 200
            assert verify(world.La0, world.Fa, value).status_code == 400


# -- C: brute force, throttling, lockout ----------------------------------------------------


def wrong(factor):
    """A well-formed code that is not the factor's current one (nor an adjacent one)."""
    current = {code(factor, steps) for steps in (-1, 0, 1)}
    return next(v for v in ("000000", "111111", "222222", "333333") if v not in current)


def test_C01_lockout_after_100_consecutive_failures(world, snapshot, no_back_off):
    for _ in range(100):
        assert verify(world.La0, world.Fa, wrong(world.Fa)).status_code == 400
    for cache in caches.all():
        cache.clear()
    assert MFAState.objects.get(user=world.alice).failure_count == 100
    before = snapshot()
    response = verify(world.La0, world.Fa, code(world.Fa))
    assert response.status_code == 403
    assert response.json()["code"] == "verification_locked"
    assert snapshot() == before


def test_C02_burst_is_throttled_and_keeps_the_right_code(world):
    assert verify(world.La0, world.Fa, wrong(world.Fa)).status_code == 400
    last_t = TOTPDevice.objects.get(pk=world.Fa.pk).last_t
    response = verify(world.La0, world.Fa, wrong(world.Fa))
    assert response.status_code == 429
    assert re.fullmatch(r"[1-9][0-9]*", response["Retry-After"])
    response = verify(world.La0, world.Fa, code(world.Fa))
    assert response.status_code == 429
    assert TOTPDevice.objects.get(pk=world.Fa.pk).last_t == last_t
    assert Token.objects.get(pk=world.La0.token.pk).mfa is False


def test_C03_no_identity_change_resets_the_counter(world, no_back_off):
    assert verify(world.La0, world.Fa, wrong(world.Fa)).status_code == 400
    attempts = [
        {"REMOTE_ADDR": "198.51.100.7"},
        {"HTTP_X_FORWARDED_FOR": "192.0.2.44"},
        {"HTTP_X_REAL_IP": "192.0.2.45"},
    ]
    for number, extra in enumerate(attempts, start=2):
        response = SecurityClient().post(
            f"{API}/auth/login/", {"email": "alice@example.com", "password": PASSWORD}, **extra
        )
        fresh = token_client(None, response.json()["token"])
        assert (
            fresh.post(
                f"{API}/auth/totp/{world.Fa.pk}/verify/", {"code": wrong(world.Fa)}, **extra
            ).status_code
            == 400
        )
        assert MFAState.objects.get(user=world.alice).failure_count == number


def test_C04_success_resets_and_locked_cannot_be_unlocked_unpromoted(world, snapshot, no_back_off):
    for _ in range(5):
        verify(world.La0, world.Fa, wrong(world.Fa))
    assert MFAState.objects.get(user=world.alice).failure_count == 5
    assert verify(world.La0, world.Fa, code(world.Fa)).status_code == 200
    assert MFAState.objects.get(user=world.alice).failure_count == 0
    assert TOTPDevice.objects.get(pk=world.Fa.pk).throttling_failure_count == 0
    MFAState.objects.filter(user=world.alice).update(failure_count=100)
    other = token_client(*login_token(world.alice, mfa=False))
    before = snapshot()
    assert verify(other, world.Fa, code(world.Fa, 1)).status_code == 403
    assert other.post(f"{API}/auth/mfa/verify/", {"code": code(world.Fa, 1)}).status_code == 403
    assert_step_up_challenge(other.delete(f"{API}/auth/totp/{world.Fa.pk}/"))
    assert_step_up_challenge(other.post(f"{API}/auth/totp/", {"name": "new"}))
    assert snapshot() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs parallel connections")
def test_C05_parallel_failures_are_all_counted(world, no_back_off):
    clients = [token_client(*login_token(world.alice, mfa=False)) for _ in range(50)]
    value = wrong(world.Fa)
    statuses = in_parallel(*(lambda c=c: verify(c, world.Fa, value).status_code for c in clients))
    assert statuses == [400] * 50
    assert MFAState.objects.get(user=world.alice).failure_count == 50


def test_C06_others_cannot_lock_alice_out(world, snapshot, anonymous):
    before = snapshot()
    for _ in range(3):
        assert verify(world.Lb1, world.Fa, "123456").status_code == 404
        assert verify(anonymous, world.Fa, "123456").status_code == 401
    assert snapshot() == before


def test_C07_login_failures_look_the_same(world):
    unusable = get_user_model().objects.create_user(email="unusable@example.com")
    unusable.set_unusable_password()
    unusable.save()
    answers = {
        (response.status_code, response.content, response["WWW-Authenticate"])
        for response in (
            SecurityClient().post(
                f"{API}/auth/login/", {"email": email, "password": "wrong password"}
            )
            for email in ("alice@example.com", "nobody@example.com", "unusable@example.com")
        )
    }
    assert answers == {(401, b'{"detail":"Invalid credentials."}', "Token")}
