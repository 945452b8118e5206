"""auth/tokens/{id}/policies/<scope>/ and …/{pid}/: managing a token's policies."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from rest_framework.exceptions import NotFound
from rest_framework.test import APIClient

from django_stepup import policy_store
from django_stepup.models import Token, TokenPolicy
from django_stepup.policies import get_scope
from tests.factories import (
    MFAStateFactory,
    TokenFactory,
    TokenPolicyFactory,
    UserFactory,
    ZoneFactory,
)
from tests.testapp.models import Zone
from tests.utils import authenticated, in_parallel

POLICY_FIELDS = {"id", "domain", "subname", "type", "perm_write"}
DEFAULT = {"domain": None, "subname": None, "type": None}


def policies_url(token, scope="rrsets"):
    return f"/auth/tokens/{token.id}/policies/{scope}/"


def policy_url(token, policy_id, scope="rrsets"):
    return f"{policies_url(token, scope)}{policy_id}/"


def client_for(token):
    return authenticated(APIClient(), token.secret)


def snapshot():
    return sorted(
        TokenPolicy.objects.values_list("id", "token_id", "scope", "values", "perm_write"), key=str
    )


@pytest.fixture
def alice(db):
    user = UserFactory(email="alice@example.com")
    MFAStateFactory(user=user)
    return user


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@example.com")


@pytest.fixture
def zone(alice):
    return ZoneFactory(owner=alice, name="a.example")


@pytest.fixture
def alice_client(alice):
    return client_for(TokenFactory(user=alice, promoted=True))


@pytest.fixture
def api_token(alice):
    return TokenFactory(user=alice)


@pytest.fixture
def default(api_token):
    return TokenPolicyFactory(token=api_token)


# -- the endpoints ----------------------------------------------------------------------------


def test_create_list_retrieve_update_delete(alice_client, api_token, zone):
    response = alice_client.post(policies_url(api_token), DEFAULT, format="json")
    assert response.status_code == 201, response.json()
    default_id = response.json()["id"]
    assert response.json() == {"id": default_id, **DEFAULT, "perm_write": False}
    response = alice_client.post(
        policies_url(api_token),
        {"domain": "a.example", "subname": "www", "type": "a", "perm_write": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    specific = response.json()
    assert specific["domain"] == "a.example"
    assert specific["type"] == "A"
    stored = TokenPolicy.objects.get(pk=specific["id"])
    assert stored.values == {"domain": zone.pk, "subname": "www", "type": "A"}

    listed = alice_client.get(policies_url(api_token)).json()
    assert [item["id"] for item in listed] == [default_id, specific["id"]]
    assert all(set(item) == POLICY_FIELDS for item in listed)
    assert alice_client.get(policy_url(api_token, specific["id"])).json() == specific

    response = alice_client.patch(
        policy_url(api_token, specific["id"]), {"perm_write": False}, format="json"
    )
    assert response.json() == {**specific, "perm_write": False}
    response = alice_client.put(
        policy_url(api_token, specific["id"]), {"domain": "a.example"}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {**specific, "subname": None, "type": None, "perm_write": False}

    assert alice_client.delete(policy_url(api_token, specific["id"])).status_code == 204
    assert alice_client.delete(policy_url(api_token, default_id)).status_code == 204
    assert not TokenPolicy.objects.exists()


def test_omitted_dimensions_are_null(alice_client, api_token):
    response = alice_client.post(policies_url(api_token), {}, format="json")
    assert response.status_code == 201
    assert response.json() == {"id": response.json()["id"], **DEFAULT, "perm_write": False}


def test_apex_subname_is_distinct_from_null(alice_client, api_token, default, zone):
    response = alice_client.post(
        policies_url(api_token), {"domain": "a.example", "subname": ""}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["subname"] == ""


def test_listing_many_policies_costs_a_constant_number_of_queries(
    alice_client, api_token, default, alice, django_assert_max_num_queries
):
    for index in range(30):
        TokenPolicyFactory(
            token=api_token,
            values={"domain": ZoneFactory(owner=alice).pk, "subname": str(index), "type": None},
        )
    with django_assert_max_num_queries(6):
        response = alice_client.get(policies_url(api_token))
    assert len(response.json()) == 31
    assert all(item["domain"] for item in response.json()[1:])


def test_the_policy_object_of_a_read_restricting_scope_has_perm_read(alice_client, api_token):
    response = alice_client.post(
        policies_url(api_token, "private_records"), {"perm_read": False}, format="json"
    )
    assert response.status_code == 201
    assert set(response.json()) == {"id", "subname", "type", "perm_write", "perm_read"}
    assert response.json()["perm_read"] is False


# -- validation ----------------------------------------------------------------------------


def test_another_users_domain_and_a_missing_one_give_the_same_400(
    alice_client, api_token, default, bob
):
    ZoneFactory(owner=bob, name="b.example")
    before = snapshot()
    foreign = alice_client.post(policies_url(api_token), {"domain": "b.example"}, format="json")
    missing = alice_client.post(policies_url(api_token), {"domain": "nope.example"}, format="json")
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json()["domain"] == [
        message.replace("nope.example", "b.example") for message in missing.json()["domain"]
    ]
    assert snapshot() == before


@pytest.mark.parametrize(
    "body",
    [
        {"perm_write": "yes"},
        {"perm_write": 1},
        {"subname": "a\x00b"},
        {"type": "A\x00"},
        {"subname": ["www"]},
        {"subname": "x" * 256},
        {"token": "00000000-0000-0000-0000-000000000000"},
        {"id": "00000000-0000-0000-0000-000000000000"},
        {"perm_read": True},
    ],
)
def test_invalid_policy_input_is_a_400_naming_the_field(alice_client, api_token, default, body):
    before = snapshot()
    for response in (
        alice_client.post(policies_url(api_token), body, format="json"),
        alice_client.patch(policy_url(api_token, default.id), body, format="json"),
    ):
        assert response.status_code == 400
        assert set(response.json()) == set(body)
    assert snapshot() == before


# -- invariants ----------------------------------------------------------------------------


def test_the_first_policy_must_be_the_default(alice_client, api_token, zone):
    response = alice_client.post(policies_url(api_token), {"domain": "a.example"}, format="json")
    assert response.status_code == 400
    assert "default" in response.json()["non_field_errors"][0]
    assert not TokenPolicy.objects.exists()


@pytest.mark.parametrize("kind", ["login", "promoted"])
def test_login_tokens_take_no_policies(alice, alice_client, kind):
    login_token = TokenFactory(user=alice, **{kind: True})
    response = alice_client.post(policies_url(login_token), DEFAULT, format="json")
    assert response.status_code == 400
    assert "API tokens" in response.json()["non_field_errors"][0]
    assert not TokenPolicy.objects.exists()


def test_a_second_default_is_a_409(alice_client, api_token, default):
    response = alice_client.post(policies_url(api_token), DEFAULT, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert TokenPolicy.objects.count() == 1


def test_a_duplicate_combination_is_a_409(alice_client, api_token, default, zone):
    body = {"domain": "a.example", "subname": "www", "type": "A"}
    assert alice_client.post(policies_url(api_token), body, format="json").status_code == 201
    response = alice_client.post(
        policies_url(api_token), {**body, "type": "a", "perm_write": True}, format="json"
    )
    assert response.status_code == 409
    assert TokenPolicy.objects.count() == 2


def test_changing_a_policy_into_a_duplicate_is_a_409(alice_client, api_token, default, zone):
    specific = TokenPolicyFactory(
        token=api_token, values={"domain": zone.pk, "subname": None, "type": None}
    )
    before = snapshot()
    response = alice_client.put(policy_url(api_token, specific.id), DEFAULT, format="json")
    assert response.status_code == 409
    assert snapshot() == before


def test_the_default_stays_while_others_remain(alice_client, api_token, default, zone):
    TokenPolicyFactory(token=api_token, values={"domain": zone.pk, "subname": None, "type": None})
    before = snapshot()
    response = alice_client.delete(policy_url(api_token, default.id))
    assert response.status_code == 400
    assert "default" in response.json()["non_field_errors"][0]
    response = alice_client.patch(
        policy_url(api_token, default.id), {"subname": "www"}, format="json"
    )
    assert response.status_code == 400
    assert snapshot() == before


def test_the_lone_default_can_not_be_narrowed(alice_client, api_token, default):
    response = alice_client.patch(policy_url(api_token, default.id), {"type": "A"}, format="json")
    assert response.status_code == 400
    default.refresh_from_db()
    assert default.is_default


def test_auto_policy_keeps_the_default_restrictive(alice_client, api_token, default):
    Token.objects.filter(pk=api_token.pk).update(auto_policy=True)
    response = alice_client.patch(
        policy_url(api_token, default.id), {"perm_write": True}, format="json"
    )
    assert response.status_code == 400
    assert "perm_write" in response.json()
    default.refresh_from_db()
    assert default.perm_write is False


@override_settings(
    STEPUP={
        "MAX_POLICIES_PER_TOKEN": 2,
        "POLICY_SCOPES": {"rrsets": "tests.testapp.policies.rrsets"},
    }
)
def test_policies_per_token_are_capped(alice_client, api_token, default):
    assert (
        alice_client.post(policies_url(api_token), {"subname": "a"}, format="json").status_code
        == 201
    )
    response = alice_client.post(policies_url(api_token), {"subname": "b"}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This token has reached the maximum number of policies.",
        "code": "limit_exceeded",
    }
    assert TokenPolicy.objects.count() == 2


def test_the_database_refuses_a_second_default_without_the_api(default):
    with pytest.raises(IntegrityError), transaction.atomic():
        TokenPolicyFactory(token=default.token)


def test_deleting_a_domain_deletes_its_policies_and_a_new_owner_inherits_nothing(
    api_token, default, zone, bob
):
    TokenPolicyFactory(
        token=api_token, values={"domain": zone.pk, "subname": None, "type": None}, perm_write=True
    )
    zone.delete()
    assert list(TokenPolicy.objects.all()) == [default]
    reborn = ZoneFactory(owner=bob, name="a.example")
    assert not TokenPolicy.objects.filter(values__domain=reborn.pk).exists()


def test_deleting_the_user_deletes_tokens_and_policies(alice, api_token, default, zone):
    TokenPolicyFactory(token=api_token, values={"domain": zone.pk, "subname": None, "type": None})
    alice.delete()
    assert not TokenPolicy.objects.exists()
    assert not Zone.objects.exists()


# -- who may change policies ---------------------------------------------------------------


def test_a_restricted_token_can_not_change_any_policy(alice, zone):
    restricted = TokenFactory(user=alice, perms=["manage_tokens"])
    default = TokenPolicyFactory(token=restricted)
    TokenPolicyFactory(
        token=restricted, values={"domain": zone.pk, "subname": "www", "type": "A"}, perm_write=True
    )
    other = TokenFactory(user=alice)
    client = client_for(restricted)
    before = snapshot()
    responses = [
        client.post(policies_url(restricted), {**DEFAULT, "perm_write": True}, format="json"),
        client.patch(policy_url(restricted, default.id), {"perm_write": True}, format="json"),
        client.delete(policy_url(restricted, default.id)),
        client.post(policies_url(other), DEFAULT, format="json"),
        client.get(policies_url(restricted)),
    ]
    for specific in TokenPolicy.objects.filter(token=restricted).exclude(pk=default.pk):
        responses.append(client.delete(policy_url(restricted, specific.id)))
    for response in responses:
        assert response.status_code == 403
        assert response.json() == {"detail": "Insufficient token permissions."}
    assert snapshot() == before


def test_an_api_token_without_manage_tokens_can_not_touch_policies(api_token, default):
    client = client_for(api_token)
    before = snapshot()
    assert client.post(policies_url(api_token), DEFAULT, format="json").status_code == 403
    assert client.delete(policy_url(api_token, default.id)).status_code == 403
    assert snapshot() == before


def test_a_manager_token_may_restrict_weaker_tokens_but_not_stronger_ones(alice):
    manager = TokenFactory(user=alice, perms=["manage_tokens"])
    weaker = TokenFactory(user=alice)
    stronger = TokenFactory(user=alice, perms=["create_domain"])
    client = client_for(manager)
    assert client.post(policies_url(weaker), DEFAULT, format="json").status_code == 201
    assert client.post(policies_url(stronger), DEFAULT, format="json").status_code == 403
    assert not TokenPolicy.objects.filter(token=stronger).exists()


def test_an_unpromoted_login_token_gets_the_challenge(alice, api_token):
    client = client_for(TokenFactory(user=alice, login=True))
    response = client.post(policies_url(api_token), DEFAULT, format="json")
    assert response.status_code == 401
    assert 'error="insufficient_user_authentication"' in response["WWW-Authenticate"]
    assert not TokenPolicy.objects.exists()


# -- cross-user access ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_foreign_tokens_and_policies_are_the_same_404_as_missing_ones(
    alice_client, api_token, default, bob, method
):
    bobs_token = TokenFactory(user=bob)
    bobs_policy = TokenPolicyFactory(token=bobs_token)
    before = snapshot()
    call = getattr(alice_client, method)
    responses = [
        call(policy_url(api_token, bobs_policy.id), {}, format="json"),
        call(policy_url(api_token, uuid.uuid4()), {}, format="json"),
        call(policy_url(api_token, "garbage"), {}, format="json"),
        call(policy_url(bobs_token, bobs_policy.id), {}, format="json"),
        call(policy_url(api_token, default.id, scope="nope"), {}, format="json"),
    ]
    for response in responses:
        assert response.status_code == 404
        assert response.content == responses[0].content
    assert snapshot() == before


def test_another_users_token_has_no_policy_list(alice_client, bob):
    bobs_token = TokenFactory(user=bob)
    for response in (
        alice_client.get(policies_url(bobs_token)),
        alice_client.post(policies_url(bobs_token), DEFAULT, format="json"),
    ):
        assert response.status_code == 404
    assert not TokenPolicy.objects.exists()


def test_a_policy_of_another_scope_is_not_found_here(alice_client, api_token):
    private = TokenPolicyFactory(
        token=api_token, scope="private_records", values={"subname": None, "type": None}
    )
    assert alice_client.get(policy_url(api_token, private.id)).status_code == 404


# -- concurrency -------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs parallel connections")
def test_parallel_default_creations_leave_exactly_one(transactional_db):
    user = UserFactory()
    owner = TokenFactory(user=user, promoted=True)
    target = TokenFactory(user=user)
    statuses = in_parallel(
        *[lambda: client_for(owner).post(policies_url(target), DEFAULT, format="json").status_code]
        * 10
    )
    assert sorted(statuses) == [201] + [409] * 9
    assert TokenPolicy.objects.filter(token=target).count() == 1


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs parallel connections")
def test_parallel_default_deletion_and_specific_creation_keep_the_invariant(transactional_db):
    """Deleting the lone default while another request adds a specific policy: never a
    specific policy without a default."""
    user = UserFactory()
    zone = ZoneFactory(owner=user)
    owner = TokenFactory(user=user, promoted=True)
    for _ in range(5):
        target = TokenFactory(user=user)
        default = TokenPolicyFactory(token=target)
        in_parallel(
            lambda target=target, default=default: client_for(owner).delete(
                policy_url(target, default.id)
            ),
            lambda target=target: client_for(owner).post(
                policies_url(target), {"domain": zone.name}, format="json"
            ),
        )
        policies = list(TokenPolicy.objects.filter(token=target))
        assert not policies or any(policy.is_default for policy in policies)


def test_auto_policy_grants_a_domain_the_token_creates(alice):
    token = TokenFactory(user=alice, auto_policy=True)
    response = client_for(token).post("/zones/", {"name": "new.example"}, format="json")
    assert response.status_code == 201
    zone = Zone.objects.get(name="new.example")
    rrsets = {
        tuple(policy.values[name] for name in ("domain", "subname", "type")): policy.perm_write
        for policy in TokenPolicy.objects.filter(token=token, scope="rrsets")
    }
    assert rrsets == {(None, None, None): False, (zone.pk, None, None): True}


def test_without_auto_policy_creating_a_domain_adds_no_policy(alice):
    token = TokenFactory(user=alice)
    assert (
        client_for(token).post("/zones/", {"name": "new.example"}, format="json").status_code == 201
    )
    assert not TokenPolicy.objects.exists()


def test_a_policy_write_on_a_token_deleted_meanwhile_is_a_404(alice):
    """The view read the token, then a revocation deleted it before the write locked it."""
    token = TokenFactory(user=alice)
    policy = TokenPolicyFactory(token=token)
    Token.objects.filter(pk=token.pk).delete()
    scope = get_scope("rrsets")
    with pytest.raises(NotFound):
        policy_store.create_policy(token, scope, dict(DEFAULT))
    with pytest.raises(NotFound):
        policy_store.update_policy(policy, scope, dict(DEFAULT), perm_write=True, perm_read=True)
    with pytest.raises(NotFound):
        policy_store.delete_policy(policy)
    assert not TokenPolicy.objects.exists()
