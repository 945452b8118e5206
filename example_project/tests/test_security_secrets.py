"""Security catalogue H (malformed input), I (secrets), K (headers and errors), L (events)."""

import base64
import binascii
import json
import logging
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.core import mail
from django.urls import path
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key
from rest_framework.views import APIView

from django_stepup import otp, signals, tokens
from django_stepup.authentication import StepUpTokenAuthentication
from django_stepup.models import MFAState, Token

from .security_fixtures import *  # noqa: F403
from .security_fixtures import (
    API,
    INVALID_TOKEN,
    PASSWORD,
    SecurityClient,
    catch,
    code,
    token_client,
)

TOKENS = f"{API}/auth/tokens/"


def policies_url(world):
    return f"{API}/auth/tokens/{world.Aa.token.pk}/policies/rrsets/"


def raw(client, method, url, body, content_type="application/json", **extra):
    return client.generic(method, url, body, content_type=content_type, **extra)


# -- H: malformed input and resource abuse -------------------------------------------------


@pytest.mark.parametrize("where", ["tokens", "verify"])
def test_H01_oversized_body_is_refused(world, snapshot, where):
    before = snapshot()
    url = TOKENS if where == "tokens" else f"{API}/auth/totp/{world.Fa.pk}/verify/"
    body = json.dumps({"name": "x" * (10 * 1024 * 1024)})
    response = raw(world.La1, "POST", url, body)
    # Django refuses the body (RequestDataTooBig) before DRF; the app answers a JSON 413.
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert snapshot() == before


def test_H02_deep_nesting_is_400(world, snapshot):
    before = snapshot()
    response = raw(world.La1, "POST", TOKENS, "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("policies", {"perm_write": "yes"}),
        ("tokens", {"name": ["a"]}),
        ("tokens", {"max_age": {}}),
        ("tokens", {"allowed_subnets": "192.0.2.0/24"}),
        ("verify", {"code": None}),
        ("verify", {"code": 12345}),
    ],
)
def test_H03_wrong_types_are_400(world, snapshot, no_back_off, url, body):
    before = snapshot()
    target = {
        "policies": policies_url(world),
        "tokens": TOKENS,
        "verify": f"{API}/auth/totp/{world.Fa.pk}/verify/",
    }[url]
    response = world.La1.post(target, body)
    assert response.status_code == 400
    assert list(response.json()) == list(body)
    after = snapshot()
    if url == "verify":  # a failed attempt counts, and nothing else moves
        assert MFAState.objects.get(user=world.alice).failure_count == 1
        after["mfa_states"], after["factors"] = before["mfa_states"], before["factors"]
    assert after == before


@pytest.mark.parametrize(
    "value",
    [
        "12345",
        "1234567",
        "\u0661\u0662\u0663\u0664\u0665\u0666"  # Arabic-Indic,
        "\uff11\uff12\uff13\uff14\uff15\uff16"  # full-width,
        "12_345",
        "+12345",
        "123456\n",
        "123456\x00",
        " 123456",
        "1e5",
    ],
)
def test_H04_only_six_ascii_digits_are_a_code(world, no_back_off, value):
    last_t = TOTPDevice.objects.get(pk=world.Fa.pk).last_t
    response = world.La0.post(f"{API}/auth/totp/{world.Fa.pk}/verify/", {"code": value})
    assert response.status_code == 400
    assert response.json() == {"code": ["Invalid code."]}
    assert MFAState.objects.get(user=world.alice).failure_count == 1
    assert TOTPDevice.objects.get(pk=world.Fa.pk).last_t == last_t


def test_H04_digits_of_the_right_code_in_other_scripts_fail(world, no_back_off):
    right = code(world.Fa)
    for variant in (
        right.translate(str.maketrans("0123456789", "".join(chr(0x0660 + d) for d in range(10)))),
        right.translate(str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))),
    ):
        response = world.La0.post(f"{API}/auth/totp/{world.Fa.pk}/verify/", {"code": variant})
        assert response.status_code == 400
    assert Token.objects.get(pk=world.La0.token.pk).mfa is False


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("tokens", {"name": "a\x00b"}),
        ("rrsets", {"subname": "a\x00b", "type": "A", "ttl": 3600, "records": ["192.0.2.1"]}),
        ("policies", {"subname": "www", "type": "A\x00"}),
    ],
)
def test_H05_null_bytes_are_400(world, snapshot, url, body):
    before = snapshot()
    target = {
        "tokens": TOKENS,
        "rrsets": f"{API}/domains/a.example/rrsets/",
        "policies": policies_url(world),
    }[url]
    response = world.La1.post(target, body)
    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize("name", ["\u202eevil", "🔑 key", "ß" * 128])
def test_H06_unicode_names_round_trip(world, name):
    response = world.La1.post(TOKENS, {"name": name})
    assert response.status_code == 201
    assert response.json()["name"] == name
    assert Token.objects.get(pk=response.json()["id"]).name == name


def test_H06_over_long_name_is_400(world, snapshot):
    before = snapshot()
    response = world.La1.post(TOKENS, {"name": "🔑" * 129})
    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", '{"name": "x"}'),
        ("application/x-www-form-urlencoded", "name=x"),
        (
            "multipart/form-data; boundary=B",
            '--B\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--B--\r\n',
        ),
    ],
)
def test_H07_json_only(world, snapshot, content_type, body):
    before = snapshot()
    response = raw(world.La1, "POST", TOKENS, body, content_type=content_type)
    assert response.status_code == 415
    assert snapshot() == before


def test_H08_duplicate_keys_are_refused(world, snapshot):
    """A JSON object with a repeated key is ambiguous: 400, nothing written."""
    url = f"{policies_url(world)}{world.Aa_default.pk}/"
    before = snapshot()
    for body in (
        '{"perm_write": true, "perm_write": false}',
        '{"perm_write": false, "perm_write": true}',
    ):
        response = raw(world.La1, "PATCH", url, body)
        assert response.status_code == 400
        assert "duplicate key" in response.json()["detail"]
    assert snapshot() == before


def test_H10_caps(world, settings, snapshot):
    settings.STEPUP = {
        **settings.STEPUP,
        "MAX_TOKENS_PER_USER": Token.objects.filter(user=world.alice).count(),
    }
    before = snapshot()
    response = world.La1.post(TOKENS, {"name": "one too many"})
    assert response.status_code == 409
    assert response.json()["code"] == "limit_exceeded"
    subnets = [f"10.0.{i}.0/24" for i in range(101)]
    assert (
        world.La1.patch(f"{TOKENS}{world.Aa.token.pk}/", {"allowed_subnets": subnets}).status_code
        == 400
    )
    settings.STEPUP = {**settings.STEPUP, "MAX_FACTORS_PER_USER": 1}
    assert world.La1.post(f"{API}/auth/totp/", {"name": "second"}).status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize(
    "header",
    [
        b"Token",
        b"Token ",
        b"Token a b",
        b"Token " + b"a" * 4096,
        "Token stp_\u00e9\u00e9".encode("latin-1"),
        b"Basic YWxpY2U6cGFzcw==",
        b"Bearer stp_notatoken",
        b"token stp_notatoken",
    ],
)
def test_H11_authorization_header_edge_cases(world, header):
    client = SecurityClient(HTTP_AUTHORIZATION=header.decode("latin-1"))
    response = client.get(f"{API}/domains/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_H11_lowercase_and_bearer_schemes_work_and_query_keys_do_not(world):
    for scheme in ("token", "Bearer"):
        client = SecurityClient(HTTP_AUTHORIZATION=f"{scheme} {world.La1.secret}")
        assert client.get(f"{API}/domains/").status_code == 200
    response = SecurityClient().get(f"{API}/domains/?token={world.La1.secret}")
    assert response.status_code == 401


# -- I: secret handling --------------------------------------------------------------------


def strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def test_I01_secret_shown_once_with_no_store(world):
    response = world.La1.post(TOKENS, {"name": "ci"})
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    secret = response.json()["token"]
    digest = Token.objects.get(pk=response.json()["id"]).digest
    for page in (world.La1.get(TOKENS), world.La1.get(f"{TOKENS}{response.json()['id']}/")):
        for value in strings(page.json()):
            assert secret not in value
            assert digest not in value


def test_I02_only_a_digest_is_stored(world):
    token = Token.objects.get(pk=world.La1.token.pk)
    assert token.digest != world.La1.secret
    assert world.La1.secret not in json.dumps(list(Token.objects.values()), default=str)
    secrets_ = {tokens.generate_secret() for _ in range(10_000)}
    assert len(secrets_) == 10_000
    random_part = tokens.RANDOM_LENGTH
    assert random_part * 5.95 >= 128  # log2(62) = 5.95 bits per base62 character


def test_I03_no_secret_reaches_any_log_or_repr(db, settings, caplog):
    settings.DEBUG = True
    caplog.set_level(logging.DEBUG)
    logging.getLogger("django.db.backends").setLevel(logging.DEBUG)
    from .security_fixtures import World

    world = World()
    login = SecurityClient().post(
        f"{API}/auth/login/", {"email": "carol@example.com", "password": PASSWORD}
    )
    carol = token_client(None, login.json()["token"])
    created = carol.post(TOKENS, {"name": "ci"}).json()
    api = token_client(None, created["token"])
    api.get(f"{API}/domains/")
    factor = carol.post(f"{API}/auth/totp/", {"name": "phone"}).json()
    device = TOTPDevice.objects.get(pk=factor["id"])
    submitted = code(device)
    carol.post(f"{API}/auth/totp/{device.pk}/verify/", {"code": submitted})
    world.La0.post(f"{API}/auth/mfa/verify/", {"code": code(world.Fa)})
    secrets_ = [
        login.json()["token"],
        created["token"],
        PASSWORD,
        base64.b64encode(PASSWORD.encode()).decode(),
        factor["uri"],
        submitted,
        code(world.Fa),
    ]
    seeds = [factor["secret"], device.key, world.Fa.key]
    records = [record for record in caplog.records]
    assert records
    for record in records:
        message = record.getMessage()
        leaked = [s for s in secrets_ if s in message]
        assert not leaked, (record.name, message)
        if record.name != "django.db.backends":
            assert not [s for s in seeds if s in message], (record.name, message)
    for instance in (*Token.objects.all(), device, *MFAState.objects.all()):
        for text in (str(instance), repr(instance)):
            assert not any(s in text for s in (*secrets_, *seeds))


def failing_view_urls():
    class Fails(APIView):
        authentication_classes = [StepUpTokenAuthentication]
        permission_classes = []

        def post(self, request):
            raise RuntimeError("forced failure")

    return [path("fail/", Fails.as_view())]


urlpatterns = failing_view_urls()


@pytest.mark.urls(__name__)
def test_I04_error_mail_hides_the_authorization_header(world, settings):
    settings.DEBUG = False
    settings.ADMINS = [("Admin", "admin@example.com")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = SecurityClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.La1.secret}")
    response = client.post("/fail/", {"code": "123456"})
    assert response.status_code == 500
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    text = message.body + "".join(str(alternative[0]) for alternative in message.alternatives)
    assert "HTTP_AUTHORIZATION" in text
    assert world.La1.secret not in text
    assert "123456" not in text


def test_I06_factor_secret_shown_once(world):
    response = world.La1.post(f"{API}/auth/totp/", {"name": "backup"})
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    created = response.json()
    assert {"secret", "uri", "qr"} <= set(created)
    for value in strings(world.La1.get(f"{API}/auth/totp/").json()):
        assert created["secret"] not in value
        assert "otpauth" not in value
    assert world.La1.get(f"{API}/auth/totp/{created['id']}/").status_code == 405


def test_I07_seeds_have_160_bits_and_do_not_repeat(world):
    secret = otp.factor_secret(world.Fa)
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) >= 20
    keys = {default_key() for _ in range(10_000)}
    assert len(keys) == 10_000
    assert all(len(binascii.unhexlify(key)) >= 20 for key in list(keys)[:100])


@pytest.mark.parametrize(
    "email",
    [
        "a&secret=AAAA@example.com",
        "a?issuer=x@example.com",
        "a#frag@example.com",
        "a%00b@example.com",
        "a/b@example.com",
    ],
)
def test_I08_otpauth_uri_is_escaped(db, email):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(email=email, password=PASSWORD)
    device = TOTPDevice.objects.create(user=user, name="&secret=BBBB#x", confirmed=False)
    uri = urlsplit(otp.provisioning_uri(device))
    query = parse_qs(uri.query, strict_parsing=True)
    assert query["secret"] == [otp.factor_secret(device)]
    assert query["issuer"] == ["django-stepup demo"]
    assert uri.fragment == ""
    assert unquote(uri.path) == f"/django-stepup demo:{email}"


def test_I09_garbage_tokens_cost_no_query_and_look_alike(world, django_assert_num_queries):
    typo = world.La1.secret[:-1] + ("A" if world.La1.secret[-1] != "A" else "B")
    unknown = tokens.generate_secret()
    answers = []
    with django_assert_num_queries(0):
        answers.append(SecurityClient(HTTP_AUTHORIZATION=f"Token {typo}").get(f"{API}/domains/"))
    answers.append(SecurityClient(HTTP_AUTHORIZATION=f"Token {unknown}").get(f"{API}/domains/"))
    answers.append(world.Aa.get(f"{API}/domains/", REMOTE_ADDR="unknown"))
    assert {(a.status_code, a.content) for a in answers} == {
        (401, json.dumps(INVALID_TOKEN, separators=(",", ":")).encode())
    }


# -- K: response headers and error format --------------------------------------------------


def test_K01_every_401_carries_a_challenge(world, anonymous):
    answers = [
        anonymous.get(f"{API}/domains/"),
        anonymous.post(f"{API}/auth/login/", {"email": "alice@example.com", "password": "no"}),
        world.La0.get(f"{API}/domains/"),
        SecurityClient(HTTP_AUTHORIZATION="Token nope").get(f"{API}/auth/account/"),
        world.Aa.get(f"{API}/domains/", REMOTE_ADDR="198.51.100.1:80"),
    ]
    assert [a.status_code for a in answers] == [401] * 5
    assert all(a["WWW-Authenticate"].startswith("Token") for a in answers)


def test_K02_challenge_kinds(world):
    step_up = world.La0.get(f"{API}/domains/")
    assert 'error="insufficient_user_authentication"' in step_up["WWW-Authenticate"]
    denied = world.Aa.patch(f"{API}/domains/a.example/rrsets/@/A/", {"ttl": 60})
    assert denied.status_code == 403
    assert "WWW-Authenticate" not in denied
    invalid = SecurityClient(HTTP_AUTHORIZATION="Token nope").get(f"{API}/domains/")
    assert invalid["WWW-Authenticate"] == "Token"


def test_K03_every_429_has_retry_after(world, settings):
    settings.STEPUP = {**settings.STEPUP, "LOGIN_RATE_PER_ACCOUNT": "1/min"}
    client = SecurityClient()
    statuses = []
    for _ in range(3):
        response = client.post(
            f"{API}/auth/login/", {"email": "alice@example.com", "password": "no"}
        )
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response["Retry-After"]) > 0
    assert 429 in statuses
    world.La0.post(f"{API}/auth/totp/{world.Fa.pk}/verify/", {"code": "000000"})
    throttled = world.La0.post(f"{API}/auth/totp/{world.Fa.pk}/verify/", {"code": "000000"})
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0


def test_K04_one_error_schema(world, anonymous):
    answers = {
        400: world.La1.post(TOKENS, {"name": ["a"]}),
        401: anonymous.get(f"{API}/domains/"),
        403: world.Aa.post(TOKENS, {}),
        404: world.La1.get(f"{API}/domains/b.example/"),
        405: world.La1.put(f"{API}/auth/login/", {}),
        415: raw(world.La1, "POST", TOKENS, "x", content_type="text/plain"),
    }
    for status, response in answers.items():
        assert response.status_code == status
        assert response["Content-Type"] == "application/json"
        assert isinstance(response.json(), dict)
    for status in (401, 403, 404, 405, 415):
        assert "detail" in answers[status].json()


def test_K05_security_headers(world, settings):
    responses_ = [
        world.La1.post(TOKENS, {"name": "x"}),
        world.La1.post(f"{API}/auth/totp/", {"name": "x"}),
        SecurityClient().post(
            f"{API}/auth/login/", {"email": "alice@example.com", "password": PASSWORD}
        ),
        world.La1.post(f"{API}/auth/recovery-codes/"),
    ]
    for response in responses_:
        assert response.status_code in (200, 201)
        assert response["Cache-Control"] == "no-store"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Type"] == "application/json"
        assert "Server" not in response
        assert "X-Powered-By" not in response


# -- L: notifications ----------------------------------------------------------------------


def test_L03_signals_fire_once_per_event(world, django_capture_on_commit_callbacks):
    events = {
        name: catch(getattr(signals, name))
        for name in ("factor_activated", "factor_removed", "token_created")
    }
    # Mails go out on commit: run the callbacks the requests registered.
    with django_capture_on_commit_callbacks(execute=True):
        created = world.Lc0.post(TOKENS, {"name": "ci"})
        factor = world.Lc0.post(f"{API}/auth/totp/", {"name": "phone"}).json()
        device = TOTPDevice.objects.get(pk=factor["id"])
        world.Lc0.post(f"{API}/auth/totp/{device.pk}/verify/", {"code": code(device)})
        assert world.Lc0.delete(f"{API}/auth/totp/{device.pk}/").status_code == 204
    assert [str(e["token"].pk) for e in events["token_created"]] == [created.json()["id"]]
    assert [e["factor"].pk for e in events["factor_activated"]] == [device.pk]
    assert [(e["user"], e["mfa_enabled"]) for e in events["factor_removed"]] == [
        (world.carol, False)
    ]
    assert len(mail.outbox) == 3
