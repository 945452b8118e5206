"""GET auth/events/: the account's own security events, over HTTP."""

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from django_stepup.models import AuditEvent, Token
from tests.factories import TokenFactory, TokenPolicyFactory, TOTPDeviceFactory, UserFactory
from tests.utils import authenticated, login_body

EVENTS = "/auth/events/"
FIELDS = {"id", "created", "event", "token_id", "ip_address", "details"}

pytestmark = pytest.mark.django_db


def client_for(api_client, token):
    return authenticated(api_client, token.secret)


def event(user, name="login_succeeded", created=None, **fields):
    return AuditEvent.objects.create(
        user=user, event=name, created=created or timezone.now(), **fields
    )


def links(response):
    """The ``Link`` header as ``{rel: url}``."""
    return dict((rel, url) for url, rel in re.findall(r'<([^>]*)>; rel="(\w+)"', response["Link"]))


def test_lists_the_accounts_own_events_newest_first(api_client, user):
    token = TokenFactory(user=user, login=True)
    now = timezone.now()
    older = event(user, "login_failed", created=now - timedelta(minutes=2))
    newer = event(user, "token_created", created=now - timedelta(minutes=1), token_id=token.pk)
    event(UserFactory(), "login_succeeded")
    response = client_for(api_client, token).get(EVENTS)
    assert response.status_code == 200
    data = response.json()
    assert [item["id"] for item in data] == [newer.pk, older.pk]
    assert all(set(item) == FIELDS for item in data)
    assert data[0]["token_id"] == str(token.pk)
    assert "Link" not in response


def test_events_of_real_actions_appear_without_secrets(api_client, user):
    response = api_client.post("/auth/login/", login_body(user), format="json")
    secret = response.json()["token"]
    client = authenticated(api_client, secret)
    created = client.post("/auth/tokens/", {"name": "ci"}, format="json").json()
    assert (
        client.patch(
            f"/auth/tokens/{created['id']}/", {"name": "deploy"}, format="json"
        ).status_code
        == 200
    )
    response = client.get(EVENTS)
    names = [item["event"] for item in response.json()]
    assert names == ["token_changed", "token_created", "login_succeeded"]
    changed = response.json()[0]
    assert changed["token_id"] == created["id"]
    assert changed["details"]["fields"] == ["name"]
    assert changed["ip_address"] == "127.0.0.1"
    assert secret not in response.content.decode()
    assert created["token"] not in response.content.decode()


def test_filters_by_event_and_token(api_client, user):
    token = TokenFactory(user=user, login=True)
    other_id = uuid.uuid4()
    wanted = event(user, "tokens_revoked", token_id=other_id)
    event(user, "tokens_revoked", token_id=token.pk)
    event(user, "login_failed", token_id=other_id)
    client = client_for(api_client, token)
    response = client.get(EVENTS, {"event": "tokens_revoked", "token": str(other_id)})
    assert [item["id"] for item in response.json()] == [wanted.pk]
    assert len(client.get(EVENTS, {"token": str(other_id)}).json()) == 2
    assert len(client.get(EVENTS, {"event": "tokens_revoked"}).json()) == 2


@pytest.mark.parametrize(("field", "value"), [("event", "no_such_event"), ("token", "not-a-uuid")])
def test_a_bad_filter_is_400_naming_it(api_client, user, field, value):
    token = TokenFactory(user=user, login=True)
    response = client_for(api_client, token).get(EVENTS, {field: value})
    assert response.status_code == 400
    assert set(response.json()) == {field}


def test_pages_of_100_with_link_headers(api_client, user):
    token = TokenFactory(user=user, login=True)
    start = timezone.now() - timedelta(days=1)
    AuditEvent.objects.bulk_create(
        AuditEvent(user=user, event="login_failed", created=start + timedelta(seconds=i))
        for i in range(250)
    )
    client = client_for(api_client, token)
    seen = []
    response = client.get(EVENTS)
    pages = 0
    while True:
        pages += 1
        data = response.json()
        assert len(data) <= 100
        seen += [item["id"] for item in data]
        rels = links(response)
        assert "first" in rels
        if "next" not in rels:
            break
        response = client.get(rels["next"])
    assert pages == 3
    expected = list(
        AuditEvent.objects.filter(user=user)
        .order_by("-created", "-id")
        .values_list("pk", flat=True)
    )
    assert seen == expected
    previous = client.get(links(response)["prev"])
    assert len(previous.json()) == 100


def test_an_unpromoted_login_token_of_an_mfa_user_gets_the_challenge(api_client):
    factor = TOTPDeviceFactory()
    event(factor.user)
    response = client_for(api_client, TokenFactory(user=factor.user, login=True)).get(EVENTS)
    assert response.status_code == 401
    assert response.json()["code"] == "mfa_required"
    promoted = TokenFactory(user=factor.user, promoted=True)
    assert client_for(api_client, promoted).get(EVENTS).status_code == 200


def test_api_tokens_need_manage_tokens_and_no_policies(api_client, user):
    event(user)
    assert client_for(api_client, TokenFactory(user=user)).get(EVENTS).status_code == 403
    manager = TokenFactory(user=user, perms=["manage_tokens"])
    assert len(client_for(api_client, manager).get(EVENTS).json()) == 1
    restricted = TokenFactory(user=user, perms=["manage_tokens"])
    TokenPolicyFactory(token=restricted)
    assert client_for(api_client, restricted).get(EVENTS).status_code == 403


def test_anonymous_is_401(api_client):
    assert api_client.get(EVENTS).status_code == 401


def test_the_list_costs_a_constant_number_of_queries(
    api_client, user, django_assert_max_num_queries
):
    token = TokenFactory(user=user, login=True)
    AuditEvent.objects.bulk_create(AuditEvent(user=user, event="login_failed") for _ in range(50))
    client = client_for(api_client, token)
    client.get(EVENTS)
    with django_assert_max_num_queries(3):  # authentication, MFA state, the page
        assert len(client.get(EVENTS).json()) == 50


def test_no_write_method(api_client, user):
    token = TokenFactory(user=user, login=True)
    assert client_for(api_client, token).post(EVENTS, {}, format="json").status_code == 405
    assert Token.objects.filter(pk=token.pk).exists()
