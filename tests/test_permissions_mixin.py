"""PolicyScopedMixin: one declaration enforces a token's policies on every action, over HTTP.

``/records/`` declares ``policy_scope`` and nothing else; ``/override-records/`` overrides
get_permissions, filter_backends, perform_create and perform_update as a host might;
``/manual-records/`` is the hand-built pattern with ``check_policy``. The record type is
a plain model field, not a part of the URL: a write can try to change it.
"""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import viewsets
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate

from django_stepup.permissions import PolicyScopedMixin
from tests.factories import (
    RecordFactory,
    TokenFactory,
    TokenPolicyFactory,
    ZoneFactory,
)
from tests.testapp.models import Record
from tests.testapp.views import RecordSerializer
from tests.utils import authenticated

DENIED = {"detail": "Insufficient token permissions."}


def client_for(token):
    return authenticated(APIClient(), token.secret)


def stored(record):
    """The row as the database holds it now."""
    return Record.objects.filter(pk=record.pk).values_list("zone__name", "subname", "type").get()


@pytest.fixture
def other_zone(alice):
    return ZoneFactory(owner=alice, name="b.example")


@pytest.fixture
def www_a(zone):
    return RecordFactory(zone=zone, subname="www", type="A")


@pytest.fixture
def mail_a(zone):
    return RecordFactory(zone=zone, subname="mail", type="A")


BASES = ["/records/", "/override-records/", "/manual-records/"]


# -- list and retrieve --------------------------------------------------------------------


def test_list_and_retrieve_are_free_when_the_scope_does_not_restrict_reads(
    restricted, www_a, mail_a
):
    client = client_for(restricted)
    assert {row["subname"] for row in client.get("/records/").json()} == {"www", "mail"}
    assert client.get(f"/records/{mail_a.pk}/").status_code == 200


@pytest.mark.parametrize("base", ["/private-records/", "/override-private-records/"])
def test_a_read_restricting_scope_hides_objects_from_list_and_retrieve(alice, www_a, mail_a, base):
    """/override-private-records/ lists no filter backend: the mixin filters all the same."""
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
    assert [row["subname"] for row in client.get(base).json()] == ["mail"]
    assert client.get(f"{base}{www_a.pk}/").status_code == 404
    assert client.get(f"{base}{mail_a.pk}/").status_code == 200


def test_listing_costs_the_same_queries_for_any_number_of_objects(
    restricted, zone, www_a, django_assert_num_queries
):
    """Reads free: no policy query. Writable only: the policies, loaded once."""
    client = client_for(restricted)
    client.get("/whoami/")
    for count in (3, 50):
        for index in range(Record.objects.count(), count):
            RecordFactory(zone=zone, subname=f"s{index}")
        with django_assert_num_queries(2):  # authentication, the page
            assert len(client.get("/records/").json()) == count
        with django_assert_num_queries(3):  # authentication, the policies, the page
            assert [row["subname"] for row in client.get("/writable-records/").json()] == ["www"]


# -- create -------------------------------------------------------------------------------


@pytest.mark.parametrize("base", BASES)
def test_create_checks_the_new_values_and_writes_nothing_on_denial(restricted, zone, base):
    client = client_for(restricted)
    body = {"zone": "a.example", "subname": "www"}
    response = client.post(base, {**body, "type": "MX"}, format="json")
    assert response.status_code == 403
    assert response.json() == DENIED
    response = client.post(base, {**body, "subname": "mail", "type": "A"}, format="json")
    assert response.status_code == 403
    assert not Record.objects.exists()
    assert client.post(base, {**body, "type": "A"}, format="json").status_code == 201
    assert list(Record.objects.values_list("subname", "type")) == [("www", "A")]


def test_create_sees_what_the_hosts_save_adds(restricted, zone):
    """The override's perform_create saves the type upper-cased: "a" is stored (and
    checked) as "A"."""
    client = client_for(restricted)
    response = client.post(
        "/override-records/", {"zone": "a.example", "subname": "www", "type": "a"}, format="json"
    )
    assert response.status_code == 201
    assert list(Record.objects.values_list("type", flat=True)) == ["A"]


def test_create_costs_one_policy_query(restricted, zone, django_assert_num_queries):
    client = client_for(restricted)
    client.get("/whoami/")
    # authentication, the zone named in the body, the unique check, the policies, the INSERT
    with django_assert_num_queries(5):
        response = client.post(
            "/records/", {"zone": "a.example", "subname": "www", "type": "A"}, format="json"
        )
    assert response.status_code == 201


# -- update and partial update -------------------------------------------------------------


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize(
    "change",
    [{"type": "MX"}, {"subname": "mail"}, {"zone": "b.example"}],
    ids=["type", "subname", "zone"],
)
def test_patch_can_not_move_an_object_out_of_scope(restricted, www_a, other_zone, base, change):
    response = client_for(restricted).patch(f"{base}{www_a.pk}/", change, format="json")
    assert response.status_code == 403
    assert response.json() == DENIED
    assert stored(www_a) == ("a.example", "www", "A")


@pytest.mark.parametrize("base", BASES)
def test_put_can_not_move_an_object_out_of_scope(restricted, www_a, base):
    response = client_for(restricted).put(
        f"{base}{www_a.pk}/", {"zone": "a.example", "subname": "www", "type": "AAAA"}, format="json"
    )
    assert response.status_code == 403
    assert stored(www_a) == ("a.example", "www", "A")


@pytest.mark.parametrize("base", BASES)
def test_an_object_out_of_scope_can_not_be_moved_into_it(restricted, mail_a, base):
    response = client_for(restricted).patch(
        f"{base}{mail_a.pk}/", {"subname": "www"}, format="json"
    )
    assert response.status_code == 403
    assert stored(mail_a) == ("a.example", "mail", "A")


@pytest.mark.parametrize("base", BASES)
def test_updates_within_scope_pass(restricted, www_a, base):
    client = client_for(restricted)
    assert client.patch(f"{base}{www_a.pk}/", {"type": "A"}, format="json").status_code == 200
    response = client.put(
        f"{base}{www_a.pk}/", {"zone": "a.example", "subname": "www", "type": "A"}, format="json"
    )
    assert response.status_code == 200


def test_update_sees_what_the_hosts_save_adds(restricted, www_a):
    client = client_for(restricted)
    url = f"/override-records/{www_a.pk}/"
    assert client.patch(url, {"type": "a"}, format="json").status_code == 200
    assert client.patch(url, {"type": "mx"}, format="json").status_code == 403
    assert stored(www_a) == ("a.example", "www", "A")


def test_an_unrestricted_token_moves_objects_freely(alice, www_a, other_zone):
    client = client_for(TokenFactory(user=alice))
    response = client.patch(
        f"/records/{www_a.pk}/", {"zone": "b.example", "type": "MX"}, format="json"
    )
    assert response.status_code == 200
    assert stored(www_a) == ("b.example", "www", "MX")


def test_update_costs_one_policy_query(restricted, www_a, django_assert_num_queries):
    client = client_for(restricted)
    client.get("/whoami/")
    # authentication, the record, the policies, the UPDATE
    with django_assert_num_queries(4):
        response = client.patch(f"/records/{www_a.pk}/", {"type": "A"}, format="json")
    assert response.status_code == 200


# -- destroy ------------------------------------------------------------------------------


@pytest.mark.parametrize("base", BASES)
def test_destroy_checks_the_old_values(restricted, www_a, mail_a, base):
    client = client_for(restricted)
    response = client.delete(f"{base}{mail_a.pk}/")
    assert response.status_code == 403
    assert response.json() == DENIED
    assert client.delete(f"{base}{www_a.pk}/").status_code == 204
    assert list(Record.objects.values_list("subname", flat=True)) == ["mail"]


# -- requests the mixin refuses whatever the host lists ------------------------------------


def test_without_a_step_up_token_the_override_view_refuses_everything(alice, www_a):
    client = APIClient()
    client.force_authenticate(user=alice)
    assert client.get("/override-records/").status_code == 403
    assert client.patch(f"/override-records/{www_a.pk}/", {}, format="json").status_code == 403


def test_a_token_restricted_in_another_scope_can_not_write_here(alice, www_a):
    token = TokenFactory(user=alice)
    TokenPolicyFactory(
        token=token,
        scope="private_records",
        values={"subname": None, "type": None},
        perm_write=True,
    )
    response = client_for(token).patch(f"/override-records/{www_a.pk}/", {}, format="json")
    assert response.status_code == 403


# -- many=True serializers --------------------------------------------------------------


def test_a_list_create_checks_every_item_and_writes_nothing_on_denial(restricted, zone):
    client = client_for(restricted)
    www = {"zone": "a.example", "subname": "www", "type": "A"}
    response = client.post("/list-records/", [www, {**www, "subname": "mail"}], format="json")
    assert response.status_code == 403
    assert not Record.objects.exists()
    assert client.post("/list-records/", [www], format="json").status_code == 201
    assert Record.objects.count() == 1


def test_a_list_update_is_refused_as_unpairable(restricted, www_a):
    """A many=True update can't tell which new values belong to which object: the mixin
    refuses to save it rather than check only half."""
    client = client_for(restricted)
    with pytest.raises(ImproperlyConfigured, match="check_policy_object"):
        client.patch("/list-records/retype/", [{"type": "MX"}], format="json")
    assert stored(www_a) == ("a.example", "www", "A")


# -- a dimension the stored object does not carry -----------------------------------------


def test_get_policy_values_reads_what_the_object_to_store_lacks(alice, zone):
    """The serializer's create() turns ``label`` into the subname; the view's
    get_policy_values reads it, or the would-be record's subname would be the apex's ""."""
    token = TokenFactory(user=alice)
    TokenPolicyFactory(token=token)
    TokenPolicyFactory(
        token=token, values={"domain": zone.pk, "subname": "", "type": "A"}, perm_write=True
    )
    client = client_for(token)
    body = {"zone": "a.example", "type": "A"}
    response = client.post("/label-records/", {**body, "label": "mail"}, format="json")
    assert response.status_code == 403
    assert not Record.objects.exists()
    assert client.post("/label-records/", {**body, "label": ""}, format="json").status_code == 201


# -- declaring it wrong -------------------------------------------------------------------


def test_the_mixin_after_the_view_class_is_refused_at_class_creation():
    with pytest.raises(TypeError, match="before the view class"):

        class Misordered(viewsets.ModelViewSet, PolicyScopedMixin):
            policy_scope = "rrsets"


def test_a_view_without_a_scope_is_a_configuration_error(restricted):
    class NoScope(PolicyScopedMixin, viewsets.ModelViewSet):
        serializer_class = RecordSerializer
        queryset = Record.objects.all()

    request = APIRequestFactory().get("/")
    force_authenticate(request, user=restricted.user, token=restricted)
    with pytest.raises(ImproperlyConfigured, match="declares no policy_scope"):
        NoScope.as_view({"get": "list"})(request)


def test_the_policies_are_loaded_once_per_request(restricted, www_a):
    client = client_for(restricted)
    client.get("/whoami/")
    with CaptureQueriesContext(connection) as queries:
        response = client.put(
            f"/records/{www_a.pk}/",
            {"zone": "a.example", "subname": "www", "type": "A"},
            format="json",
        )
    assert response.status_code == 200
    assert sum("django_stepup_tokenpolicy" in query["sql"] for query in queries) == 1
