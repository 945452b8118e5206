import uuid
from datetime import timedelta

import pytest
from django.contrib.admin import AdminSite
from django.contrib.admin.widgets import AutocompleteSelect, ForeignKeyRawIdWidget
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import formats, timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from django_stepup import otp, signals, tokens
from django_stepup.admin import TokenAdmin
from django_stepup.models import AuditEvent, MFAState, RecoveryCode, Token, TokenPolicy
from tests.factories import (
    TokenFactory,
    TokenPolicyFactory,
    TOTPDeviceFactory,
    UserFactory,
    ZoneFactory,
)
from tests.test_signals import capture
from tests.utils import login_field

CHANGELIST = "/admin/django_stepup/token/"
ADD = "/admin/django_stepup/token/add/"


@pytest.fixture
def admin_client(client, db):
    admin_user = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    return client


def management_forms(policies=None):
    """The inline management forms of both declared scopes; ``policies``: their rows by scope."""
    data = {}
    for scope in ("rrsets", "private_records"):
        rows = (policies or {}).get(scope, [])
        prefix = f"policies-{scope}"
        initial = sum(1 for row in rows if "id" in row)
        data |= {
            f"{prefix}-TOTAL_FORMS": len(rows),
            f"{prefix}-INITIAL_FORMS": initial,
            f"{prefix}-MIN_NUM_FORMS": 0,
            f"{prefix}-MAX_NUM_FORMS": 1000,
        }
        for index, row in enumerate(rows):
            data |= {f"{prefix}-{index}-{key}": value for key, value in row.items()}
    return data


def change_data(policies=None, **fields):
    """POST data for a token's change form: its fields and inline policy rows."""
    return {"name": "k", "allowed_subnets": '["0.0.0.0/0", "::/0"]', **fields} | management_forms(
        policies
    )


def changelist_names(response):
    return {str(token) for token in response.context["cl"].result_list}


def changelist_queries(admin_client):
    with CaptureQueriesContext(connection) as captured:
        assert admin_client.get(CHANGELIST).status_code == 200
    return len(captured.captured_queries)


def test_changelist_query_count_is_constant(admin_client):
    TokenFactory.create_batch(5)
    five = changelist_queries(admin_client)
    TokenFactory.create_batch(45, login=True)
    assert changelist_queries(admin_client) == five


def test_changelist_shows_kind_expiry_subnets_and_flags(admin_client):
    now = timezone.now()
    TokenFactory(
        name="deploy",
        perms=["create_domain"],
        allowed_subnets=["192.0.2.0/24"],
        created=now,
        max_age=timedelta(days=1),
    )
    body = admin_client.get(CHANGELIST).content.decode()
    assert "deploy" in body
    assert "192.0.2.0/24" in body
    assert "create_domain" in body
    assert "API" in body


def test_changelist_never_shows_digest(admin_client):
    token = TokenFactory()
    body = admin_client.get(CHANGELIST).content.decode()
    assert token.digest not in body
    body = admin_client.get(f"{CHANGELIST}{token.pk}/change/").content.decode()
    assert token.digest not in body
    assert token.secret not in body


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("api", {"api"}), ("login", {"login"}), ("promoted", {"promoted"})],
)
def test_kind_filter(admin_client, kind, expected):
    TokenFactory(name="api")
    TokenFactory(name="login", login=True)
    TokenFactory(name="promoted", promoted=True)
    assert changelist_names(admin_client.get(CHANGELIST, {"kind": kind})) == expected


def test_validity_filter(admin_client):
    now = timezone.now()
    TokenFactory(name="fresh", max_age=timedelta(days=1))
    TokenFactory(name="old", created=now - timedelta(days=2), max_age=timedelta(days=1))
    TokenFactory(
        name="idle", created=now - timedelta(hours=2), max_unused_period=timedelta(hours=1)
    )
    TokenFactory(name="inactive", user=UserFactory(is_active=False))
    assert changelist_names(admin_client.get(CHANGELIST, {"validity": "valid"})) == {"fresh"}
    assert changelist_names(admin_client.get(CHANGELIST, {"validity": "invalid"})) == {
        "old",
        "idle",
        "inactive",
    }


def test_user_filter_and_search(admin_client):
    carol = UserFactory(email="carol@example.com")
    TokenFactory(name="carol's key", user=carol)
    TokenFactory(name="other key")
    assert changelist_names(admin_client.get(CHANGELIST, {"user__id__exact": carol.pk})) == {
        "carol's key"
    }
    assert changelist_names(admin_client.get(CHANGELIST, {"q": "carol@"})) == {"carol's key"}
    assert changelist_names(admin_client.get(CHANGELIST, {"q": "other"})) == {"other key"}


def test_search_does_not_match_secrets(admin_client):
    token = TokenFactory(name="x")
    assert changelist_names(admin_client.get(CHANGELIST, {"q": token.secret})) == set()
    assert changelist_names(admin_client.get(CHANGELIST, {"q": token.digest})) == set()


def test_add_shows_the_secret_once(admin_client):
    owner = UserFactory(email="owner@example.com")
    response = admin_client.post(
        ADD,
        {
            "user": owner.pk,
            "name": "ci key",
            "max_age": "1 00:00:00",
            "max_unused_period": "",
            "allowed_subnets": '["192.0.2.0/24"]',
            "perms": ["create_domain"],
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    assert tokens.parse_secret(secret) == secret
    token = Token.objects.get()
    assert token.digest == tokens.digest(secret)
    assert (token.user, token.name, token.mfa, token.perms) == (
        owner,
        "ci key",
        None,
        ["create_domain"],
    )
    assert token.allowed_subnets == ["192.0.2.0/24"]
    assert token.max_age == timedelta(days=1)
    for cookie in response.cookies.values():
        assert secret not in cookie.value
    for page in (CHANGELIST, f"{CHANGELIST}{token.pk}/change/"):
        assert secret not in admin_client.get(page).content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("allowed_subnets", '["192.0.2.0/33"]'),
        ("allowed_subnets", "[]"),
        ("allowed_subnets", '"192.0.2.0/24"'),
        ("max_age", "-1 00:00:00"),
    ],
)
def test_add_rejects_invalid_input_and_stores_nothing(admin_client, field, value):
    data = {"user": UserFactory().pk, "name": "k", "allowed_subnets": '["0.0.0.0/0"]'}
    data[field] = value
    response = admin_client.post(ADD, data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Token.objects.exists()


def test_mfa_is_read_only_on_change(admin_client):
    token = TokenFactory(login=True)
    response = admin_client.post(
        f"{CHANGELIST}{token.pk}/change/",
        change_data(name="renamed", mfa="True"),
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.name == "renamed"
    assert token.mfa is False


def test_a_change_does_not_undo_a_concurrent_promotion(admin_client):
    from django.db.models.signals import pre_save
    from django.utils import timezone

    token = TokenFactory(login=True)

    def promote_meanwhile(sender, instance, **kwargs):
        Token.objects.filter(pk=instance.pk).update(mfa=True, mfa_at=timezone.now())

    pre_save.connect(promote_meanwhile, sender=Token)
    try:
        response = admin_client.post(f"{CHANGELIST}{token.pk}/change/", change_data(name="renamed"))
    finally:
        pre_save.disconnect(promote_meanwhile, sender=Token)
    assert response.status_code == 302
    token.refresh_from_db()
    assert (token.name, token.mfa) == ("renamed", True)


def test_revoke_selected_tokens(admin_client):
    keep, revoke = TokenFactory(), TokenFactory()
    response = admin_client.post(
        CHANGELIST, {"action": "revoke_tokens", "_selected_action": [revoke.pk]}
    )
    assert response.status_code == 302
    assert list(Token.objects.all()) == [keep]


def test_revoke_login_tokens_of_users(admin_client):
    alice, bob = UserFactory(), UserFactory()
    alice_api = TokenFactory(user=alice)
    alice_login = TokenFactory(user=alice, login=True)
    TokenFactory(user=alice, promoted=True)
    bob_login = TokenFactory(user=bob, login=True)
    admin_client.post(
        CHANGELIST,
        {"action": "revoke_login_tokens_of_users", "_selected_action": [alice_login.pk]},
    )
    assert set(Token.objects.all()) == {alice_api, bob_login}


def test_mfa_state_shows_recovery_codes_left_and_resets_lockout(admin_client):
    user = UserFactory()
    state = MFAState.objects.create(user=user, enabled=True, failure_count=100)
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, digest=f"{i:064d}") for i in range(3)]
    )
    response = admin_client.get("/admin/django_stepup/mfastate/")
    assert response.status_code == 200
    assert response.context["cl"].result_list[0]._recovery_codes_left == 3
    admin_client.post(
        "/admin/django_stepup/mfastate/",
        {"action": "reset_lockout", "_selected_action": [user.pk]},
    )
    state.refresh_from_db()
    assert state.failure_count == 0


def test_name_is_escaped(admin_client):
    TokenFactory(name="<script>alert(1)</script>")
    body = admin_client.get(CHANGELIST).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


# -- policies inline ------------------------------------------------------------------------


def change_url(token):
    return f"{CHANGELIST}{token.pk}/change/"


def row(**fields):
    """One inline row; an all-empty new row needs ``add`` to count."""
    return {"domain": "", "subname": "", "type": "", **fields}


def inline_errors(response, scope="rrsets"):
    formset = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.scope.name == scope
    )
    return [str(e) for e in formset.formset.non_form_errors()] + [
        str(message)
        for form_errors in formset.formset.errors
        for messages in form_errors.values()
        for message in messages
    ]


def stored(token):
    """The token's policies in creation order per scope."""
    return [
        (policy.scope, tuple(sorted(policy.values.items())), policy.perm_write)
        for policy in TokenPolicy.objects.filter(token=token).order_by("scope", "created")
    ]


def test_change_form_has_one_inline_per_scope(admin_client):
    token = TokenFactory()
    zone = ZoneFactory(owner=token.user, name="example.com")
    TokenPolicyFactory(token=token)
    TokenPolicyFactory(token=token, values={"domain": zone.pk, "subname": None, "type": None})
    response = admin_client.get(change_url(token))
    scopes = [f.formset.scope.name for f in response.context["inline_admin_formsets"]]
    assert scopes == ["rrsets", "private_records"]
    body = response.content.decode()
    assert 'value="example.com"' in body
    assert 'name="policies-private_records-0-perm_read"' in body
    assert 'name="policies-rrsets-0-perm_read"' not in body


def test_add_page_has_no_policy_inlines(admin_client):
    assert admin_client.get(ADD).context["inline_admin_formsets"] == []


def test_add_default_and_specific_policy_inline(admin_client):
    token = TokenFactory()
    zone = ZoneFactory(owner=token.user, name="example.com")
    response = admin_client.post(
        change_url(token),
        change_data(
            {
                "rrsets": [
                    row(domain="example.com", type="a", perm_write="on"),
                    row(add="on"),
                ]
            }
        ),
    )
    assert response.status_code == 302, inline_errors(response)
    assert stored(token) == [
        ("rrsets", (("domain", None), ("subname", None), ("type", None)), False),
        ("rrsets", (("domain", zone.pk), ("subname", None), ("type", "A")), True),
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([row(domain="example.com", perm_write="on")], "first policy of a token must be"),
        ([row(add="on"), row(add="on")], "already has a policy for this combination"),
        ([row(add="on"), row(domain="unknown.example")], "There is no domain 'unknown.example'"),
        ([row(add="on"), row(domain="other.example")], "There is no domain 'other.example'"),
    ],
    ids=["specific-without-default", "duplicate", "unknown-domain", "foreign-domain"],
)
def test_invalid_policies_show_an_error_and_store_nothing(admin_client, rows, message):
    token = TokenFactory(name="before")
    ZoneFactory(owner=token.user, name="example.com")
    ZoneFactory(name="other.example")
    response = admin_client.post(change_url(token), change_data({"rrsets": rows}, name="after"))
    assert response.status_code == 200
    errors = inline_errors(response)
    assert any(message in error for error in errors), errors
    assert message in response.content.decode().replace("&#x27;", "'")
    assert stored(token) == []
    token.refresh_from_db()
    assert token.name == "before"


def test_a_duplicate_policy_shows_only_the_message(admin_client):
    token = TokenFactory()
    response = admin_client.post(
        change_url(token), change_data({"rrsets": [row(add="on"), row(add="on")]})
    )
    assert response.status_code == 200
    assert inline_errors(response) == ["This token already has a policy for this combination."]
    assert "<li>conflict</li>" not in response.content.decode()
    assert stored(token) == []


def test_the_default_cannot_go_before_the_specific_policies(admin_client):
    token = TokenFactory()
    zone = ZoneFactory(owner=token.user)
    default = TokenPolicyFactory(token=token)
    specific = TokenPolicyFactory(
        token=token, values={"domain": zone.pk, "subname": None, "type": None}
    )
    rows = [
        row(id=default.pk, token=token.pk, DELETE="on"),
        row(id=specific.pk, token=token.pk, domain=zone.name),
    ]
    response = admin_client.post(change_url(token), change_data({"rrsets": rows}))
    assert response.status_code == 200
    assert any("default policy can't be removed" in e for e in inline_errors(response))
    assert TokenPolicy.objects.filter(token=token).count() == 2
    rows[1]["DELETE"] = "on"
    response = admin_client.post(change_url(token), change_data({"rrsets": rows}))
    assert response.status_code == 302, inline_errors(response)
    assert not TokenPolicy.objects.filter(token=token).exists()


def test_update_a_policy_inline(admin_client):
    token = TokenFactory()
    zone = ZoneFactory(owner=token.user, name="example.com")
    default = TokenPolicyFactory(token=token)
    specific = TokenPolicyFactory(
        token=token, values={"domain": zone.pk, "subname": None, "type": None}
    )
    rows = [
        row(id=default.pk, token=token.pk),
        row(id=specific.pk, token=token.pk, domain="example.com", subname="www", perm_write="on"),
    ]
    response = admin_client.post(change_url(token), change_data({"rrsets": rows}))
    assert response.status_code == 302, inline_errors(response)
    specific.refresh_from_db()
    assert specific.values == {"domain": zone.pk, "subname": "www", "type": None}
    assert specific.perm_write is True


def test_auto_policy_needs_a_restrictive_default(admin_client):
    token = TokenFactory()
    response = admin_client.post(
        change_url(token),
        change_data({"rrsets": [row(add="on", perm_write="on")]}, auto_policy="on"),
    )
    assert response.status_code == 200
    assert any("auto_policy needs a restrictive default" in e for e in inline_errors(response))
    assert stored(token) == []
    token.refresh_from_db()
    assert token.auto_policy is False


def test_turning_on_auto_policy_adds_restrictive_defaults(admin_client):
    token = TokenFactory()
    response = admin_client.post(change_url(token), change_data(auto_policy="on"))
    assert response.status_code == 302
    assert [(scope, write) for scope, _values, write in stored(token)] == [
        ("private_records", False),
        ("rrsets", False),
    ]


def test_policy_on_a_read_restricting_scope(admin_client):
    token = TokenFactory()
    response = admin_client.post(
        change_url(token),
        change_data({"private_records": [{"subname": "", "type": "txt", "add": "on"}]}),
    )
    assert response.status_code == 200
    assert any("first policy" in e for e in inline_errors(response, "private_records"))
    rows = [{"subname": "", "type": "", "add": "on", "perm_read": "on"}, {"type": "txt"}]
    response = admin_client.post(change_url(token), change_data({"private_records": rows}))
    assert response.status_code == 302, inline_errors(response, "private_records")
    policies = TokenPolicy.objects.filter(token=token).order_by("created")
    assert [(p.values, p.perm_read) for p in policies] == [
        ({"subname": None, "type": None}, True),
        ({"subname": None, "type": "TXT"}, False),
    ]


def test_add_sends_token_created_and_honours_auto_policy(admin_client):
    owner = UserFactory()
    with capture(signals.token_created) as received:
        response = admin_client.post(
            ADD,
            {
                "user": owner.pk,
                "name": "k",
                "allowed_subnets": '["0.0.0.0/0"]',
                "auto_policy": "on",
            },
        )
    token = Token.objects.get()
    assert response.context["secret"]
    assert [(kwargs["user"], kwargs["token"].pk) for _sender, kwargs in received] == [
        (owner, token.pk)
    ]
    assert [(scope, write) for scope, _values, write in stored(token)] == [
        ("private_records", False),
        ("rrsets", False),
    ]


def test_revoking_counts_tokens_and_sends_tokens_revoked_per_user(admin_client):
    alice, bob = UserFactory(), UserFactory()
    alice_token, bob_token = TokenFactory(user=alice), TokenFactory(user=bob)
    TokenPolicyFactory(token=alice_token)
    with capture(signals.tokens_revoked) as received:
        response = admin_client.post(
            CHANGELIST,
            {"action": "revoke_tokens", "_selected_action": [alice_token.pk, bob_token.pk]},
            follow=True,
        )
    assert "Revoked 2 tokens." in response.content.decode()
    assert sorted(
        (kwargs["user"].pk, kwargs["tokens"], kwargs["reason"]) for _s, kwargs in received
    ) == sorted([(alice.pk, [alice_token.pk], "admin"), (bob.pk, [bob_token.pk], "admin")])
    assert not Token.objects.exists()


def test_the_delete_button_revokes_with_the_signal(admin_client):
    token = TokenFactory()
    with capture(signals.tokens_revoked) as received:
        response = admin_client.post(f"{CHANGELIST}{token.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Token.objects.exists()
    assert [kwargs["tokens"] for _sender, kwargs in received] == [[token.pk]]


def test_the_token_actions(admin_client):
    actions = admin_client.get(CHANGELIST).context["action_form"].fields["action"].choices
    assert [name for name, _label in actions if name] == [
        "delete_selected",
        "revoke_tokens",
        "revoke_login_tokens_of_users",
    ]


def test_reset_lockout_also_resets_the_factor_back_off(admin_client):
    device = TOTPDeviceFactory(
        throttling_failure_count=7, throttling_failure_timestamp=timezone.now()
    )
    MFAState.objects.filter(user=device.user).update(failure_count=5)
    admin_client.post(
        "/admin/django_stepup/mfastate/",
        {"action": "reset_lockout", "_selected_action": [device.user.pk]},
    )
    device.refresh_from_db()
    assert (device.throttling_failure_count, device.throttling_failure_timestamp) == (0, None)
    assert MFAState.objects.get(user=device.user).failure_count == 0


# -- TOTP factors ---------------------------------------------------------------------------

DEVICES = "/admin/otp_totp/totpdevice/"


def test_adding_a_totp_device_shows_its_qr_code_once(admin_client):
    owner = UserFactory(email="owner@example.com")
    response = admin_client.post(
        f"{DEVICES}add/",
        {
            "user": owner.pk,
            "name": "phone",
            "confirmed": "on",
            "step": 30,
            "t0": 0,
            "digits": 6,
            "tolerance": 1,
            "drift": 0,
            "throttling_failure_count": 0,
        },
    )
    assert response.status_code == 200, response.context["adminform"].form.errors
    assert "no-store" in response["Cache-Control"]
    device = TOTPDevice.objects.get()
    key = otp.factor_secret(device)
    body = response.content.decode()
    assert "<svg" in body
    assert key in body
    assert device.confirmed is False
    assert not MFAState.objects.filter(user=owner, enabled=True).exists()
    for page in (DEVICES, f"{DEVICES}{device.pk}/change/"):
        page_body = admin_client.get(page).content.decode()
        assert key not in page_body
        assert device.key not in page_body
    for view in ("config", "qrcode"):
        response = admin_client.get(f"{DEVICES}{device.pk}/{view}/", follow=True)
        assert response.get("Content-Type", "").startswith("text/html")
        assert key not in response.content.decode()


def test_deleting_a_totp_device_removes_the_factor(admin_client):
    device = TOTPDeviceFactory()
    login_token = TokenFactory(user=device.user, promoted=True)
    api_token = TokenFactory(user=device.user)
    response = admin_client.post(f"{DEVICES}{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.exists()
    assert MFAState.objects.get(user=device.user).enabled is False
    assert list(Token.objects.all()) == [api_token]
    assert not Token.objects.filter(pk=login_token.pk).exists()


# -- audit events ---------------------------------------------------------------------------

EVENTS = "/admin/django_stepup/auditevent/"


def audit_event(user=None, minutes_ago=0, **fields):
    return AuditEvent.objects.create(
        user=user, created=timezone.now() - timedelta(minutes=minutes_ago), **fields
    )


def events_queries(admin_client):
    with CaptureQueriesContext(connection) as captured:
        assert admin_client.get(EVENTS).status_code == 200
    return len(captured.captured_queries)


def test_audit_event_changelist_query_count_is_constant(admin_client):
    for _ in range(5):
        audit_event(UserFactory(), event="login_failed")
    five = events_queries(admin_client)
    for _ in range(45):
        audit_event(UserFactory(), event="token_created", token_id=uuid.uuid4())
    assert AuditEvent.objects.count() == 50
    assert events_queries(admin_client) == five


def test_audit_event_changelist_columns_filter_and_search(admin_client):
    carol = UserFactory(email="carol@example.com")
    token_id = uuid.uuid4()
    audit_event(
        carol,
        event="step_up_failed",
        token_id=token_id,
        ip_address="192.0.2.7",
        details={"failure_count": 3},
    )
    audit_event(UserFactory(), event="token_created")
    audit_event(None, event="login_failed")
    body = admin_client.get(EVENTS).content.decode()
    for text in (str(carol), str(token_id), "192.0.2.7", "failure_count=3"):
        assert text in body

    def listed(**params):
        return {event.event for event in admin_client.get(EVENTS, params).context["cl"].result_list}

    assert listed() == {"step_up_failed", "token_created", "login_failed"}
    assert listed(event__exact="login_failed") == {"login_failed"}
    assert listed(q="carol@") == {"step_up_failed"}


def test_audit_events_are_read_only(admin_client):
    event = audit_event(UserFactory(), event="login_failed", details={"n": 1})
    assert admin_client.get(f"{EVENTS}add/").status_code == 403
    page = admin_client.get(f"{EVENTS}{event.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = admin_client.post(f"{EVENTS}{event.pk}/change/", {"event": "token_created"})
    assert response.status_code == 403
    assert AuditEvent.objects.get().event == "login_failed"


def test_only_superusers_delete_audit_events(client, admin_client):
    event = audit_event(UserFactory(), event="login_failed")
    staff = UserFactory(is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=["view_auditevent", "delete_auditevent"])
    )
    client.force_login(staff)
    assert client.get(EVENTS).status_code == 200
    assert client.post(f"{EVENTS}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.exists()
    admin_client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert admin_client.post(f"{EVENTS}{event.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not AuditEvent.objects.exists()


def recent_numbers(body):
    return {n for n in range(30) if f"n={n}</td>" in body}


@pytest.mark.parametrize("page", ["token", "mfastate"])
def test_change_pages_show_the_last_20_events_of_the_user(admin_client, page):
    token = TokenFactory(login=True)
    state = MFAState.objects.create(user=token.user)
    for n in range(25):
        audit_event(token.user, minutes_ago=n, event="step_up_failed", details={"n": n})
    audit_event(UserFactory(), event="login_failed", details={"n": 29})
    audit_event(token.user, event="token_created", details={"token_name": "<b>x</b>"})
    url = {
        "token": f"{CHANGELIST}{token.pk}/change/",
        "mfastate": f"/admin/django_stepup/mfastate/{state.pk}/change/",
    }[page]
    body = admin_client.get(url).content.decode()
    assert recent_numbers(body) == set(range(19))
    assert "token_name=&#x27;&lt;b&gt;x&lt;/b&gt;&#x27;" in body
    assert "<b>x</b>" not in body


def test_change_page_without_events_says_so(admin_client):
    token = TokenFactory()
    body = admin_client.get(f"{CHANGELIST}{token.pk}/change/").content.decode()
    assert "No events recorded." in body


def test_delete_selected_revokes_with_the_signal(admin_client):
    keep, revoke = TokenFactory(), TokenFactory()
    with capture(signals.tokens_revoked) as sent:
        response = admin_client.post(
            CHANGELIST,
            {"action": "delete_selected", "_selected_action": [revoke.pk], "post": "yes"},
        )
    assert response.status_code == 302
    assert list(Token.objects.all()) == [keep]
    assert [kwargs["reason"] for _sender, kwargs in sent] == ["admin"]


def readonly_contents(response):
    """The change form's read-only fields: name -> the text shown."""
    return {
        field.field["name"]: str(field.contents())
        for fieldset in response.context["adminform"]
        for line in fieldset
        for field in line
        if field.is_readonly
    }


def test_the_totp_add_page_shows_the_device_as_pending_as_it_is_saved(admin_client):
    response = admin_client.get(f"{DEVICES}add/")
    shown = readonly_contents(response)
    assert shown["status"].startswith("pending")
    assert "confirmed" not in shown
    assert "icon-yes" not in response.content.decode()
    device = TOTPDeviceFactory()
    shown = readonly_contents(admin_client.get(f"{DEVICES}{device.pk}/change/"))
    assert shown["status"] == "active (confirmed)"


def test_the_token_user_is_picked_by_autocomplete(admin_client):
    owner = UserFactory(**{login_field(): "owner@example.com"})
    UserFactory(**{login_field(): "someone@example.com"})
    response = admin_client.get(ADD)
    widget = response.context["adminform"].form.fields["user"].widget
    assert isinstance(widget, AutocompleteSelect)
    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "django_stepup", "model_name": "token", "field_name": "user", "term": "own"},
    )
    assert response.json()["results"] == [{"id": str(owner.pk), "text": "owner@example.com"}]


def test_without_a_searchable_user_admin_the_user_is_a_raw_id(rf, db):
    request = rf.get(ADD)
    request.user = UserFactory(is_staff=True, is_superuser=True)
    token_admin = TokenAdmin(Token, AdminSite())
    assert token_admin.get_autocomplete_fields(request) == []
    form = token_admin.get_form(request)
    assert isinstance(form.base_fields["user"].widget, ForeignKeyRawIdWidget)


def test_lifetimes_have_a_format_hint(admin_client):
    form = admin_client.get(ADD).context["adminform"].form
    for field in ("max_age", "max_unused_period"):
        assert form.fields[field].help_text.startswith("[DD] [HH:[MM:]]ss, e.g. 7 00:00:00")


def shown_time(value):
    return formats.localize(timezone.localtime(value))


@pytest.mark.parametrize(
    ("traits", "mfa", "expiry"),
    [
        ({}, lambda t: "API token (no MFA)", lambda t: "never"),
        (
            {"login": True, "max_age": timedelta(days=7)},
            lambda t: "not promoted",
            lambda t: shown_time(t.expires_at),
        ),
        ({"promoted": True}, lambda t: f"promoted at {shown_time(t.mfa_at)}", lambda t: "never"),
    ],
)
def test_the_change_page_says_mfa_and_expiry_in_words(admin_client, traits, mfa, expiry):
    token = TokenFactory(**traits)
    shown = readonly_contents(admin_client.get(f"{CHANGELIST}{token.pk}/change/"))
    assert shown["mfa_status"] == mfa(token)
    assert shown["expiry"] == expiry(token)


# -- the admin writes through the same services as the API ----------------------------------


def add_token_data(owner, **fields):
    return {"user": owner.pk, "name": "k", "allowed_subnets": '["0.0.0.0/0"]', **fields}


def add_device_data(owner):
    return {
        "user": owner.pk,
        "name": "phone",
        "step": 30,
        "t0": 0,
        "digits": 6,
        "tolerance": 1,
        "drift": 0,
        "throttling_failure_count": 0,
    }


def test_adding_a_token_at_the_cap_is_a_form_error(admin_client, settings):
    settings.STEPUP = {**settings.STEPUP, "MAX_TOKENS_PER_USER": 2}
    owner = UserFactory()
    TokenFactory(user=owner)
    TokenFactory(user=owner, login=True)
    with capture(signals.token_created) as received:
        response = admin_client.post(ADD, add_token_data(owner))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["user"] == [
        "This account has reached the maximum number of tokens."
    ]
    assert Token.objects.filter(user=owner).count() == 2
    assert received == []
    assert not AuditEvent.objects.filter(event="token_created").exists()


def test_adding_a_token_below_the_cap_is_audited(admin_client, settings):
    settings.STEPUP = {**settings.STEPUP, "MAX_TOKENS_PER_USER": 2}
    owner = UserFactory()
    TokenFactory(user=owner)
    response = admin_client.post(ADD, add_token_data(owner))
    assert response.status_code == 200
    token = Token.objects.get(user=owner, name="k")
    assert token.digest == tokens.digest(response.context["secret"])
    [event] = AuditEvent.objects.filter(event="token_created")
    assert event.token_id == token.pk


@pytest.mark.parametrize("url", [ADD, "change"])
def test_an_idle_period_below_the_last_used_interval_is_a_form_error(admin_client, url):
    owner = UserFactory()
    if url == "change":
        token = TokenFactory(user=owner, name="before")
        url = f"{CHANGELIST}{token.pk}/change/"
        data = change_data(max_unused_period="00:00:59")
    else:
        data = add_token_data(owner, max_unused_period="00:00:59")
    response = admin_client.post(url, data)
    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["max_unused_period"]
    assert "60 seconds" in error
    assert not Token.objects.filter(max_unused_period__isnull=False).exists()
    assert not Token.objects.filter(name="k").exists()


def test_adding_a_device_at_the_factor_cap_is_a_form_error(admin_client, settings):
    settings.STEPUP = {**settings.STEPUP, "MAX_FACTORS_PER_USER": 2}
    owner = UserFactory()
    TOTPDeviceFactory(user=owner)
    TOTPDeviceFactory(user=owner, pending=True)
    response = admin_client.post(f"{DEVICES}add/", add_device_data(owner))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["user"] == [
        "This user already has 2 factors, the maximum."
    ]
    assert TOTPDevice.objects.filter(user=owner).count() == 2


def test_adding_a_device_below_the_factor_cap_saves_it_pending(admin_client, settings):
    settings.STEPUP = {**settings.STEPUP, "MAX_FACTORS_PER_USER": 2}
    owner = UserFactory()
    TOTPDeviceFactory(user=owner)
    response = admin_client.post(f"{DEVICES}add/", {**add_device_data(owner), "confirmed": "on"})
    assert response.status_code == 200
    assert "<svg" in response.content.decode()
    assert TOTPDevice.objects.filter(user=owner).count() == 2
    assert TOTPDevice.objects.get(user=owner, name="phone").confirmed is False


def test_mfa_state_cannot_be_deleted_or_edited_here(admin_client):
    state = TOTPDeviceFactory().user.stepup_mfa_state
    url = f"/admin/django_stepup/mfastate/{state.pk}/"
    assert admin_client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    response = admin_client.get("/admin/django_stepup/mfastate/")
    assert "delete_selected" not in dict(response.context["action_form"].fields["action"].choices)
    admin_client.post(
        "/admin/django_stepup/mfastate/",
        {"action": "delete_selected", "_selected_action": [state.pk], "post": "yes"},
    )
    admin_client.post(url, {"enabled": "off"})
    assert MFAState.objects.get(pk=state.pk).enabled is True


def test_deleting_a_user_in_the_admin_deletes_their_mfa_state(admin_client):
    user = TOTPDeviceFactory().user
    opts = user._meta
    url = f"/admin/{opts.app_label}/{opts.model_name}/{user.pk}/delete/"
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not MFAState.objects.filter(user_id=user.pk).exists()


# -- WebAuthn factors -------------------------------------------------------------------------

WEBAUTHN = "/admin/django_stepup/webauthndevice/"


def test_webauthn_factors_are_listed_per_user_with_their_details(admin_client, user):
    from django_stepup.models import WebAuthnDevice
    from tests.test_views_webauthn import register

    device, _ = register(user)
    other, _ = register(UserFactory())
    WebAuthnDevice.objects.filter(pk=device.pk).update(name="laptop-q7")
    WebAuthnDevice.objects.filter(pk=other.pk).update(name="someone else's")
    response = admin_client.get(f"{WEBAUTHN}?q={user.get_username()}")
    assert response.status_code == 200
    assert "laptop-q7" in response.content.decode()
    assert "someone else" not in response.content.decode()
    detail = admin_client.get(f"{WEBAUTHN}{device.pk}/change/").content.decode()
    assert device.aaguid in detail and "internal" in detail
    assert admin_client.get(f"{WEBAUTHN}add/").status_code == 403


def test_deleting_a_webauthn_factor_is_the_api_removal(admin_client, user):
    from django_stepup.models import WebAuthnDevice
    from tests.test_views_webauthn import register

    device, _ = register(user)
    login_token = TokenFactory(user=user, promoted=True)
    api_token = TokenFactory(user=user)
    response = admin_client.post(f"{WEBAUTHN}{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not WebAuthnDevice.objects.exists()
    assert MFAState.objects.get(user=user).enabled is False
    assert not Token.objects.filter(pk=login_token.pk).exists()
    assert Token.objects.filter(pk=api_token.pk).exists()
    assert AuditEvent.objects.filter(event="factor_removed", user=user).exists()


def test_changing_a_token_is_a_token_changed_event(admin_client):
    from django_stepup.models import AuditEvent

    token = TokenFactory(name="before")
    response = admin_client.post(change_url(token), change_data(name="after"))
    assert response.status_code == 302
    [event] = AuditEvent.objects.filter(event="token_changed")
    assert event.token_id == token.pk and event.user == token.user
    assert event.details["fields"] == ["name"]
    assert event.details["actor_id"] != token.user.pk
