"""Security catalogue D (lifetime, revocation), E (IP allow-list), F (policies), G (BOLA)."""

import json
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from django_stepup.models import MFAState, Token, TokenPolicy
from dnsapi.models import Domain, RRset

from .security_fixtures import *  # noqa: F403
from .security_fixtures import API, INVALID_TOKEN, SecurityClient, add_policy, code, token_client

DOMAINS = f"{API}/domains/"
WWW_A = f"{API}/domains/a.example/rrsets/www.../A/"
RECORDS = {"records": ["192.0.2.99"]}


def last_used(client):
    return Token.objects.get(pk=client.token.pk).last_used


def assert_invalid_token(response):
    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN
    assert response["WWW-Authenticate"] == "Token"


def api_client(user, **fields):
    return token_client(*Token.objects.create_token(user, **fields))


# -- D: token lifetime and revocation -------------------------------------------------------


def test_D01_max_age_is_absolute_and_logout_revokes(world):
    client = api_client(world.alice, max_age=timedelta(hours=1))
    created = client.token.created
    with time_machine.travel(created + timedelta(hours=1, seconds=-1), tick=False):
        assert client.get(DOMAINS).status_code == 200
    used = last_used(client)
    with time_machine.travel(created + timedelta(hours=1, seconds=1), tick=False):
        assert_invalid_token(client.get(DOMAINS))
    assert last_used(client) == used
    assert client.post(f"{API}/auth/logout/").status_code == 204
    assert_invalid_token(client.get(DOMAINS))


def test_D02_max_unused_period_is_an_idle_timeout(world):
    client = api_client(world.alice, max_unused_period=timedelta(minutes=10))
    start = client.token.created
    with time_machine.travel(start + timedelta(minutes=10, seconds=-1), tick=False):
        assert client.get(DOMAINS).status_code == 200
    first = last_used(client)
    assert first == start + timedelta(minutes=10, seconds=-1)
    with time_machine.travel(first + timedelta(minutes=10, seconds=-1), tick=False):
        assert client.get(DOMAINS).status_code == 200
    assert last_used(client) > first
    with time_machine.travel(last_used(client) + timedelta(minutes=10, seconds=1), tick=False):
        assert_invalid_token(client.get(DOMAINS))


def test_D03_failed_authentication_does_not_keep_a_token_alive(world):
    client = api_client(world.alice, allowed_subnets=["192.0.2.0/24"], max_age=timedelta(hours=1))
    assert_invalid_token(client.get(DOMAINS, REMOTE_ADDR="198.51.100.1"))
    assert last_used(client) is None
    malformed = SecurityClient(HTTP_AUTHORIZATION=f"Token {client.secret}x")
    assert_invalid_token(malformed.get(DOMAINS, REMOTE_ADDR="192.0.2.1"))
    assert last_used(client) is None
    with time_machine.travel(client.token.created + timedelta(hours=2), tick=False):
        assert_invalid_token(client.get(DOMAINS, REMOTE_ADDR="192.0.2.1"))
    assert last_used(client) is None


def test_D04_login_token_cannot_extend_its_life(world, snapshot):
    before = snapshot()
    own = f"{API}/auth/tokens/{world.La1.token.pk}/"
    for body in ({"max_age": None}, {"max_age": "30 00:00:00"}, {"max_unused_period": None}):
        response = world.La1.patch(own, body)
        assert response.status_code == 400
        assert set(response.json()) == set(body)
    assert snapshot() == before
    response = world.La1.patch(f"{API}/auth/tokens/{world.Aa.token.pk}/", {"max_age": "01:00:00"})
    assert response.status_code == 200
    assert Token.objects.get(pk=world.Aa.token.pk).max_age == timedelta(hours=1)


@pytest.mark.parametrize(
    "value", ["-1 00:00:00", "P-1D", "-00:00:01", "P999999999999D", 1e309, "abc", [], {}]
)
def test_D05_absurd_durations_are_400(world, snapshot, value):
    before = snapshot()
    body = json.dumps({"max_age": value}).replace("Infinity", "1e309")
    response = world.La1.generic(
        "PATCH", f"{API}/auth/tokens/{world.Aa.token.pk}/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["max_age"]
    assert snapshot() == before


def test_D06_promotion_does_not_extend_max_age(world):
    client = token_client(
        *Token.objects.create_token(world.alice, mfa=False, max_age=timedelta(hours=24))
    )
    start = client.token.created
    with time_machine.travel(start + timedelta(hours=23, minutes=59), tick=False):
        response = client.post(f"{API}/auth/totp/{world.Fa.pk}/verify/", {"code": code(world.Fa)})
        assert response.status_code == 200
    with time_machine.travel(start + timedelta(hours=24, seconds=1), tick=False):
        assert_invalid_token(client.get(DOMAINS))
    assert Token.objects.get(pk=client.token.pk).created == start


def test_D07_deactivation_and_deletion_end_every_token(world):
    get_user_model().objects.filter(pk=world.alice.pk).update(is_active=False)
    for client in (world.La1, world.Aa):
        assert_invalid_token(client.get(f"{API}/auth/logout/"))
    get_user_model().objects.get(pk=world.alice.pk).delete()
    assert not Token.objects.filter(user_id=world.alice.pk).exists()
    assert not TokenPolicy.objects.filter(token_id=world.Aa.token.pk).exists()
    assert not TOTPDevice.objects.filter(user_id=world.alice.pk).exists()
    assert not MFAState.objects.filter(user_id=world.alice.pk).exists()
    assert Token.objects.filter(user=world.bob).exists()


def test_D08_password_change_revokes_login_tokens_only(world):
    alice = get_user_model().objects.get(pk=world.alice.pk)
    alice.set_password("another correct horse")
    alice.save()
    for client in (world.La0, world.La1):
        assert_invalid_token(client.get(f"{API}/auth/account/"))
    assert world.Aa.get(DOMAINS).status_code == 200


# -- E: IP allow-list ------------------------------------------------------------------------


def restricted_to(world, *subnets):
    return api_client(world.alice, allowed_subnets=list(subnets))


@pytest.mark.parametrize(("address", "status"), [("192.0.2.10", 200), ("198.51.100.1", 401)])
def test_E01_ipv4_allow_list(world, address, status):
    client = restricted_to(world, "192.0.2.0/24")
    response = client.get(DOMAINS, REMOTE_ADDR=address)
    assert response.status_code == status
    if status == 401:
        assert_invalid_token(response)
        assert last_used(client) is None


@pytest.mark.parametrize(("address", "status"), [("2001:db8::1", 200), ("2001:db9::1", 401)])
def test_E02_ipv6_allow_list(world, address, status):
    client = restricted_to(world, "2001:db8::/32")
    assert client.get(DOMAINS, REMOTE_ADDR=address).status_code == status


@pytest.mark.parametrize(
    ("subnets", "address", "status"),
    [
        (["192.0.2.0/24"], "::ffff:192.0.2.10", 200),
        (["192.0.2.0/24"], "::ffff:198.51.100.1", 401),
        (["::/0"], "::ffff:198.51.100.1", 401),
    ],
)
def test_E03_ipv4_mapped_addresses_count_as_ipv4(world, subnets, address, status):
    client = restricted_to(world, *subnets)
    assert client.get(DOMAINS, REMOTE_ADDR=address).status_code == status


def test_E03_mapped_subnets_are_refused(world, snapshot):
    before = snapshot()
    response = world.La1.patch(
        f"{API}/auth/tokens/{world.Aa.token.pk}/", {"allowed_subnets": ["::ffff:192.0.2.0/120"]}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["allowed_subnets"]
    assert snapshot() == before


def test_E04_zone_id_is_dropped(world):
    client = restricted_to(world, "fe80::/10")
    assert client.get(DOMAINS, REMOTE_ADDR="fe80::1%eth0").status_code == 200


@pytest.mark.parametrize("address", ["", "unknown", "unix:/run/gunicorn.sock", "1.2.3", None])
def test_E05_odd_remote_addr_fails_closed(world, address):
    client = api_client(world.alice)
    assert_invalid_token(client.get(DOMAINS, REMOTE_ADDR=address))


@pytest.mark.parametrize(
    "header",
    [
        {"HTTP_X_FORWARDED_FOR": "192.0.2.10"},
        {"HTTP_X_REAL_IP": "192.0.2.10"},
        {"HTTP_FORWARDED": "for=192.0.2.10"},
    ],
)
def test_E06_proxy_headers_are_not_trusted(world, header):
    client = restricted_to(world, "192.0.2.0/24")
    assert_invalid_token(client.get(DOMAINS, REMOTE_ADDR="198.51.100.1", **header))


@pytest.mark.parametrize(
    "subnets",
    [
        ["192.0.2.0/33"],
        ["::/129"],
        ["300.1.1.1/32"],
        ["192.000.002.000/24"],
        ["192.0.2.10/24"],
        [" 192.0.2.0/24"],
        ["192.0.2.0/24\n"],
        ["192.0.2.0/24\x00"],
        [f"10.{i // 256}.{i % 256}.0/24" for i in range(10_001)],
    ],
    ids=lambda subnets: repr(subnets[0]) if len(subnets) == 1 else f"{len(subnets)} subnets",
)
def test_E07_bad_subnets_are_400(world, snapshot, subnets):
    before = snapshot()
    response = world.La1.patch(
        f"{API}/auth/tokens/{world.Aa.token.pk}/", {"allowed_subnets": subnets}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["allowed_subnets"]
    assert snapshot() == before


def test_E08_empty_allow_list_is_refused(world, snapshot):
    before = snapshot()
    response = world.La1.post(f"{API}/auth/tokens/", {"allowed_subnets": []})
    assert response.status_code == 400
    assert list(response.json()) == ["allowed_subnets"]
    assert snapshot() == before


def test_E09_default_allow_list_is_echoed(world):
    response = world.La1.post(f"{API}/auth/tokens/", {"name": "default"})
    assert response.status_code == 201
    assert response.json()["allowed_subnets"] == ["0.0.0.0/0", "::/0"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/auth/totp/{Fa}/verify/"),
        ("post", "/auth/mfa/verify/"),
        ("post", "/auth/logout/"),
        ("get", "/auth/account/"),
        ("get", "/auth/tokens/{La}/"),
        ("get", "/auth/totp/"),
    ],
)
def test_E10_allow_list_has_no_exempt_path(world, snapshot, method, path):
    Token.objects.filter(pk=world.La1.token.pk).update(allowed_subnets=["192.0.2.0/24"])
    before = snapshot()
    url = API + path.format(Fa=world.Fa.pk, La=world.La1.token.pk)
    assert_invalid_token(
        getattr(world.La1, method)(url, {"code": "123456"}, REMOTE_ADDR="198.51.100.1")
    )
    assert snapshot() == before


# -- F: policy escalation and function-level authorization ----------------------------------


def policies_url(token, policy=None):
    url = f"{API}/auth/tokens/{token.pk}/policies/rrsets/"
    return f"{url}{policy.pk}/" if policy is not None else url


def test_F01_restricted_token_adds_no_policy(world, snapshot):
    before = snapshot()
    response = world.Aa.post(
        policies_url(world.Aa.token), {"domain": "a.example", "perm_write": True}
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_F02_restricted_token_changes_no_policy(world, snapshot):
    before = snapshot()
    url = policies_url(world.Aa.token, world.Aa_default)
    assert world.Aa.patch(url, {"perm_write": True}).status_code == 403
    assert snapshot() == before


def test_F03_policies_cannot_be_deleted_into_freedom(world, snapshot):
    before = snapshot()
    for policy in (world.Aa_www, world.Aa_default):
        assert world.Aa.delete(policies_url(world.Aa.token, policy)).status_code == 403
    response = world.La1.delete(policies_url(world.Aa.token, world.Aa_default))
    assert response.status_code in (400, 409)
    assert snapshot() == before


@pytest.mark.parametrize("flag", ["perm_create_domain", "perm_manage_tokens"])
def test_F04_no_token_grants_what_it_lacks(world, snapshot, flag):
    manager = api_client(world.alice, perms=["manage_tokens"])
    if flag == "perm_manage_tokens":
        Token.objects.filter(pk=manager.token.pk).update(perms=["create_domain"])
        manager = api_client(world.alice, perms=["create_domain"])
    before = snapshot()
    response = manager.post(f"{API}/auth/tokens/", {flag: True})
    assert response.status_code == 403
    assert snapshot() == before


def test_F05_restricted_token_creates_no_unrestricted_token(world, snapshot):
    Token.objects.filter(pk=world.Aa.token.pk).update(perms=["manage_tokens"])
    before = snapshot()
    assert world.Aa.post(f"{API}/auth/tokens/", {}).status_code == 403
    assert snapshot() == before


def test_F06_foreign_domain_looks_like_a_missing_one(world, snapshot):
    before = snapshot()
    answers = [
        world.La1.post(policies_url(world.Aa.token), {"domain": name, "perm_write": True})
        for name in ("b.example", "nope.example")
    ]
    assert [a.status_code for a in answers] == [400, 400]
    # The message echoes the name given, nothing about whose it is.
    assert answers[0].content.replace(b"b.example", b"nope.example") == answers[1].content
    assert snapshot() == before


def test_F07_policy_follows_the_domain_not_its_name(world):
    assert world.La1.delete(f"{DOMAINS}a.example/").status_code == 204
    assert not TokenPolicy.objects.filter(pk=world.Aa_www.pk).exists()
    assert world.Lb1.post(DOMAINS, {"name": "a.example"}).status_code == 201
    RRset.objects.create(
        domain=Domain.objects.get(name="a.example"),
        subname="www",
        type="A",
        ttl=3600,
        records=["192.0.2.8"],
    )
    bobs = list(RRset.objects.filter(domain__name="a.example").values())
    assert world.Aa.put(WWW_A, {"ttl": 3600, **RECORDS}).status_code == 404
    assert list(RRset.objects.filter(domain__name="a.example").values()) == bobs


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("www.../A/", 200),
        ("www.../AAAA/", 403),
        ("@/A/", 403),
        ("WWW.../A/", 404),
        ("www..../A/", 404),
        ("xn--www-9ja.../A/", 404),
        ("www.../a/", 404),
    ],
)
def test_F08_policy_resolution_has_no_spelling_bypass(world, url, status):
    before = list(RRset.objects.exclude(subname="www", type="A").values())
    response = world.Aa.patch(f"{API}/domains/a.example/rrsets/{url}", RECORDS)
    assert response.status_code == status
    assert list(RRset.objects.exclude(subname="www", type="A").values()) == before


@pytest.mark.parametrize(
    ("subname", "record_type"), [("WWW", "A"), ("www.", "A"), ("www", "a"), ("ẉww", "A")]
)
def test_F08_spelling_variants_are_400_on_create(world, snapshot, subname, record_type):
    RRset.objects.filter(subname="www", type="A").delete()
    before = snapshot()
    response = world.Aa.post(
        f"{API}/domains/a.example/rrsets/",
        {"subname": subname, "type": record_type, "ttl": 3600, **RECORDS},
    )
    assert response.status_code == 400
    assert snapshot() == before


def test_F09_second_default_policy_is_refused(world, snapshot):
    fresh = api_client(world.alice)
    before = snapshot()
    response = world.La1.post(policies_url(world.Aa.token), {})
    assert response.status_code in (400, 409)
    response = world.La1.post(policies_url(fresh.token), {"domain": "a.example"})
    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_F10_read_only_policy_refuses_every_write_method(world, snapshot, method):
    TokenPolicy.objects.filter(pk=world.Aa_www.pk).update(perm_write=False)
    before = snapshot()
    url = f"{API}/domains/a.example/rrsets/" if method == "post" else WWW_A
    body = {"subname": "www", "type": "A", "ttl": 3600, **RECORDS}
    response = getattr(world.Aa, method)(url, body)
    assert response.status_code == 403
    assert response.json() == {"detail": "Insufficient token permissions."}
    assert snapshot() == before


def test_F10_method_override_options_and_head_change_nothing(world, snapshot):
    before = snapshot()
    response = world.Aa.get(WWW_A, HTTP_X_HTTP_METHOD_OVERRIDE="DELETE")
    assert response.status_code == 200
    assert response.json()["records"] == ["192.0.2.2"]
    head = world.Aa.head(WWW_A)
    assert head.status_code == 200
    assert head.content == b""
    options = world.Aa.options(WWW_A)
    assert options.status_code == 200
    assert "192.0.2.2" not in options.content.decode()
    assert snapshot() == before


def test_F11_policy_changes_apply_to_the_next_request(world):
    assert world.Aa.patch(WWW_A, RECORDS).status_code == 200
    response = world.La1.patch(policies_url(world.Aa.token, world.Aa_www), {"perm_write": False})
    assert response.status_code == 200
    assert world.Aa.patch(WWW_A, {"records": ["192.0.2.100"]}).status_code == 403


# -- G: BOLA across users ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_G01_foreign_token_is_a_missing_token(world, snapshot, method):
    before = snapshot()
    foreign = getattr(world.La1, method)(f"{API}/auth/tokens/{world.Lb1.token.pk}/", {"name": "x"})
    missing = getattr(world.La1, method)(f"{API}/auth/tokens/{uuid.uuid4()}/", {"name": "x"})
    assert foreign.status_code == 404
    assert foreign.content == missing.content
    assert snapshot() == before


def test_G02_foreign_policies_are_missing(world, snapshot):
    bobs_token = api_client(world.bob)
    bobs_policy = add_policy(bobs_token.token)
    before = snapshot()
    crossed = world.La1.get(policies_url(world.Aa.token, bobs_policy))
    missing = world.La1.get(f"{policies_url(world.Aa.token)}{uuid.uuid4()}/")
    assert crossed.status_code == 404
    assert crossed.content == missing.content
    assert world.La1.get(policies_url(bobs_token.token)).status_code == 404
    assert world.La1.post(policies_url(bobs_token.token), {}).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "suffix"), [("get", ""), ("patch", ""), ("delete", ""), ("post", "verify/")]
)
def test_G03_foreign_factor_is_missing(world, snapshot, method, suffix):
    before = snapshot()
    response = getattr(world.La1, method)(
        f"{API}/auth/totp/{world.Fb.pk}/{suffix}", {"code": "123456"}
    )
    assert response.status_code in (404, 405)
    if method in ("delete", "post"):
        assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("who", ["La1", "Aa"])
@pytest.mark.parametrize("path", ["", "rrsets/", "rrsets/www.../A/"])
def test_G04_foreign_domain_is_a_missing_domain(world, who, path):
    client = getattr(world, who)
    foreign = client.get(f"{DOMAINS}b.example/{path}")
    missing = client.get(f"{DOMAINS}nope.example/{path}")
    assert foreign.status_code == 404
    assert foreign.content == missing.content


def test_G05_lists_hold_only_alices_objects(world):
    query = f"?user={world.bob.pk}&owner=bob@example.com"
    tokens = world.La1.get(f"{API}/auth/tokens/{query}").json()
    assert {t["id"] for t in tokens} == {
        str(pk) for pk in Token.objects.filter(user=world.alice).values_list("pk", flat=True)
    }
    assert [d["name"] for d in world.La1.get(f"{DOMAINS}{query}").json()] == ["a.example"]
    assert [f["id"] for f in world.La1.get(f"{API}/auth/totp/{query}").json()] == [world.Fa.pk]


def test_G06_owner_fields_are_refused(world, snapshot):
    before = snapshot()
    response = world.La1.post(
        f"{API}/auth/tokens/", {"user": world.bob.pk, "owner": "bob@example.com"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"user", "owner"}
    response = world.La1.post(
        policies_url(world.Aa.token), {"token": str(world.Lb1.token.pk), "subname": "x"}
    )
    assert response.status_code == 400
    assert "token" in response.json()
    assert snapshot() == before
    created = world.La1.post(f"{API}/auth/tokens/", {"name": "mine"}).json()
    assert Token.objects.get(pk=created["id"]).user == world.alice
    policy = world.La1.post(policies_url(world.Aa.token), {"subname": "mail"}).json()
    assert TokenPolicy.objects.get(pk=policy["id"]).token_id == world.Aa.token.pk
