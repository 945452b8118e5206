"""HasTokenPermission, TokenPolicyPermission and check_policy, through HTTP on the test records."""

import pytest
from rest_framework.test import APIClient

from django_stepup.models import TokenPolicy
from django_stepup.permissions import HasTokenPermission
from django_stepup.policies import get_scope, token_allows
from tests.factories import (
    RecordFactory,
    TokenFactory,
    TokenPolicyFactory,
)
from tests.testapp.models import Record
from tests.utils import authenticated

DENIED = {"detail": "Insufficient token permissions."}


def client_for(token):
    return authenticated(APIClient(), token.secret)


def record_url(record):
    return f"/records/{record.pk}/"


@pytest.fixture
def records(zone):
    return {
        (subname, rtype): RecordFactory(zone=zone, subname=subname, type=rtype)
        for subname in ("www", "", "mail")
        for rtype in ("A", "AAAA")
    }


# -- HasTokenPermission ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token_kwargs", "status"),
    [
        ({"perms": ["create_domain"]}, 200),
        ({"perms": ["delete_domain", "manage_tokens"]}, 403),
        ({"perms": []}, 403),
        ({"login": True}, 200),
        ({"promoted": True}, 200),
    ],
)
def test_has_token_permission_checks_one_flag(alice, token_kwargs, status):
    response = client_for(TokenFactory(user=alice, **token_kwargs)).get("/guarded/create-domain/")
    assert response.status_code == status
    if status == 403:
        assert "create_domain" in response.json()["detail"]


def test_has_token_permission_without_a_flag_is_a_programming_error(rf):
    with pytest.raises(TypeError, match="for_flag"):
        HasTokenPermission().has_permission(rf.get("/"), None)


# -- TokenPolicyPermission on objects ------------------------------------------------------


def test_the_deciding_policy_decides_writes(restricted, records):
    client = client_for(restricted)
    assert client.patch(record_url(records["www", "A"]), {}, format="json").status_code == 200
    for key in (("www", "AAAA"), ("", "A"), ("mail", "A")):
        response = client.patch(record_url(records[key]), {}, format="json")
        assert response.status_code == 403
        assert response.json() == DENIED
        assert "WWW-Authenticate" not in response
    assert client.delete(record_url(records["", "A"])).status_code == 403
    assert client.delete(record_url(records["www", "A"])).status_code == 204
    assert Record.objects.count() == 5


def test_reads_are_free_unless_the_scope_restricts_them(restricted, records):
    client = client_for(restricted)
    assert len(client.get("/records/").json()) == 6
    assert client.get(record_url(records["mail", "AAAA"])).status_code == 200


def test_creates_are_checked_with_the_would_be_object(restricted, zone):
    client = client_for(restricted)
    body = {"zone": "a.example", "subname": "www"}
    assert client.post("/records/", {**body, "type": "A"}, format="json").status_code == 201
    response = client.post("/records/", {**body, "type": "MX"}, format="json")
    assert response.status_code == 403
    assert response.json() == DENIED
    assert list(Record.objects.values_list("type", flat=True)) == ["A"]


def test_a_read_only_token_can_not_write_by_any_method(alice, zone, records):
    token = TokenFactory(user=alice)
    TokenPolicyFactory(token=token)
    client = client_for(token)
    record = records["www", "A"]
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(record_url(record), {}, format="json").status_code == 403
    response = client.post(
        "/records/", {"zone": "a.example", "subname": "new", "type": "A"}, format="json"
    )
    assert response.status_code == 403
    response = client.get(record_url(record), HTTP_X_HTTP_METHOD_OVERRIDE="DELETE")
    assert response.status_code == 200
    assert client.head(record_url(record)).status_code == 200
    assert Record.objects.count() == 6


def test_an_unrestricted_token_writes_anything(alice, records):
    client = client_for(TokenFactory(user=alice))
    for record in records.values():
        assert client.patch(record_url(record), {}, format="json").status_code == 200


def test_a_policy_change_applies_to_the_next_request(restricted, records, zone):
    client = client_for(restricted)
    record = records["www", "A"]
    assert client.patch(record_url(record), {}, format="json").status_code == 200
    TokenPolicy.objects.filter(token=restricted, values__subname="www").update(perm_write=False)
    assert client.patch(record_url(record), {}, format="json").status_code == 403


def test_a_token_restricted_in_another_scope_is_denied_here(alice, records):
    token = TokenFactory(user=alice)
    TokenPolicyFactory(
        token=token,
        scope="private_records",
        values={"subname": None, "type": None},
        perm_write=True,
    )
    response = client_for(token).patch(record_url(records["www", "A"]), {}, format="json")
    assert response.status_code == 403


def test_without_a_step_up_token_everything_is_refused(alice, records):
    client = APIClient()
    client.force_authenticate(user=alice)
    assert client.get("/records/").status_code == 403
    assert client.patch(record_url(records["www", "A"]), {}, format="json").status_code == 403
    assert client.get("/account/").status_code == 403


# -- account-level views -----------------------------------------------------------------------


def test_restricted_tokens_are_kept_out_of_views_without_a_scope(alice, restricted):
    response = client_for(restricted).get("/account/")
    assert response.status_code == 403
    assert response.json() == DENIED
    assert client_for(TokenFactory(user=alice)).get("/account/").status_code == 200


# -- query budgets -----------------------------------------------------------------------------


def test_checking_any_number_of_objects_costs_one_query(
    restricted, zone, django_assert_num_queries
):
    records = [RecordFactory.build(zone=zone, subname=f"s{i}", type="A") for i in range(500)]
    scope = get_scope("rrsets")
    with django_assert_num_queries(1):
        decisions = [
            token_allows(restricted, scope, scope.values_of(record), "write") for record in records
        ]
    assert not any(decisions)


def test_a_policy_checked_write_loads_the_policies_once(alice, restricted, records):
    """Restricted or not, the policies cost one SELECT (knowing there are none is the same
    query), however many checks the request makes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(token):
        client = client_for(token)
        client.get("/whoami/")
        with CaptureQueriesContext(connection) as queries:
            response = client.patch(record_url(records["www", "A"]), {}, format="json")
            assert response.status_code == 200
        return [query["sql"] for query in queries]

    restricted_queries = queries_for(restricted)
    assert sum("django_stepup_tokenpolicy" in sql for sql in restricted_queries) == 1
    assert len(restricted_queries) == len(queries_for(TokenFactory(user=alice)))
