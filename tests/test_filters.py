"""TokenPolicyFilter: list querysets narrowed in SQL, with a query count independent of N."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from django_stepup.filters import TokenPolicyFilter
from django_stepup.models import TokenPolicy
from tests.factories import (
    RecordFactory,
    TokenFactory,
    TokenPolicyFactory,
)
from tests.testapp.models import Record
from tests.utils import authenticated


def client_for(token):
    return authenticated(APIClient(), token.secret)


@pytest.fixture
def records(zone):
    return {
        (subname, rtype): RecordFactory(zone=zone, subname=subname, type=rtype)
        for subname in ("www", "", "mail")
        for rtype in ("A", "AAAA")
    }


@pytest.fixture
def restricted(alice, zone):
    token = TokenFactory(user=alice)
    TokenPolicyFactory(token=token)
    TokenPolicyFactory(
        token=token, values={"domain": zone.pk, "subname": "www", "type": None}, perm_write=True
    )
    TokenPolicyFactory(
        token=token, values={"domain": zone.pk, "subname": "www", "type": "AAAA"}, perm_write=False
    )
    return token


def listed(client, url):
    return {(item["subname"], item["type"]) for item in client.get(url).json()}


def test_write_mode_lists_only_writable_objects(restricted, records):
    assert listed(client_for(restricted), "/writable-records/") == {("www", "A")}


def test_read_mode_changes_nothing_when_reads_are_free(restricted, records):
    assert len(listed(client_for(restricted), "/records/")) == 6


def test_unrestricted_tokens_see_everything(alice, records):
    assert len(listed(client_for(TokenFactory(user=alice)), "/writable-records/")) == 6


def test_a_scope_restricting_reads_narrows_lists_and_hides_details(alice, records):
    token = TokenFactory(user=alice)
    TokenPolicyFactory(
        token=token,
        scope="private_records",
        values={"subname": None, "type": None},
        perm_read=False,
    )
    TokenPolicyFactory(
        token=token,
        scope="private_records",
        values={"subname": "mail", "type": None},
        perm_read=True,
    )
    client = client_for(token)
    assert listed(client, "/private-records/") == {("mail", "A"), ("mail", "AAAA")}
    assert client.get(f"/private-records/{records['mail', 'A'].pk}/").status_code == 200
    hidden = client.get(f"/private-records/{records['www', 'A'].pk}/")
    assert hidden.status_code == 404


def test_a_token_restricted_elsewhere_sees_nothing_in_a_read_restricting_scope(restricted, records):
    assert listed(client_for(restricted), "/private-records/") == set()


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.json())


def test_listing_costs_the_same_queries_for_10_and_1000_objects(alice, zone, restricted):
    client = client_for(restricted)
    client.get("/whoami/")
    Record.objects.bulk_create(Record(zone=zone, subname="www", type=f"T{i}") for i in range(10))
    small = count_queries(client, "/writable-records/")
    Record.objects.bulk_create(
        Record(zone=zone, subname="www", type=f"T{i}") for i in range(10, 1000)
    )
    large = count_queries(client, "/writable-records/")
    assert small == (3, 10)  # authentication, policies, records
    assert large == (3, 1000)


def test_a_view_without_a_scope_is_a_configuration_error(restricted):
    class NoScope(APIView):
        pass

    request = APIRequestFactory().get("/")
    with pytest.raises(ImproperlyConfigured, match="policy_scope"):
        TokenPolicyFilter().filter_queryset(request, Record.objects.all(), NoScope())


def test_a_request_without_a_token_sees_nothing(records):
    class Scoped(APIView):
        policy_scope = "rrsets"

    request = APIRequestFactory().get("/")
    request.auth = None
    assert not TokenPolicyFilter().filter_queryset(request, Record.objects.all(), Scoped()).exists()


def add_policies(token, values, perm_write):
    for subname in values:
        TokenPolicy(
            token=token,
            scope="rrsets",
            values={"domain": None, "subname": subname, "type": None},
            perm_write=perm_write,
        ).save()


@pytest.mark.parametrize("default_writes", [False, True])
def test_a_thousand_policies_compile_to_sql_sqlite_accepts(alice, zone, default_writes):
    """SQLite refuses expressions deeper than 1000; the condition nests, it doesn't chain."""
    token = TokenFactory(user=alice)
    TokenPolicyFactory(token=token, perm_write=default_writes)
    add_policies(token, [f"s{i}" for i in range(999)], perm_write=not default_writes)
    Record.objects.bulk_create(
        Record(zone=zone, subname=subname, type="A") for subname in ("s0", "s998", "other")
    )
    expected = {("other", "A")} if default_writes else {("s0", "A"), ("s998", "A")}
    assert listed(client_for(token), "/writable-records/") == expected
