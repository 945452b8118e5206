"""deSEC's bulk RRset writes on ``domains/{name}/rrsets/``: POST, PUT and PATCH with a list."""

import pytest

from django_stepup.models import TokenPolicy
from dnsapi import bulk as bulk_module
from dnsapi.models import Domain, RRset

from .conftest import API

RRSETS = f"{API}/domains/alice.example/rrsets/"
DENIED = {"detail": "Insufficient token permissions."}
METHODS = ["post", "put", "patch"]


@pytest.fixture
def alice_client(alice, client_for):
    return client_for(alice, mfa=False)


@pytest.fixture
def domain(alice, make_domain):
    return make_domain(
        alice,
        "alice.example",
        [
            ("", "A", ["192.0.2.1"]),
            ("www", "A", ["192.0.2.2"]),
            ("www", "AAAA", ["2001:db8::2"]),
        ],
    )


def stored():
    """Every RRset of alice.example as {(subname, type): (ttl, records)}."""
    return {
        (rrset.subname, rrset.type): (rrset.ttl, rrset.records)
        for rrset in RRset.objects.filter(domain__name="alice.example")
    }


def add_policy(token, perm_write=False, **values):
    return TokenPolicy.objects.create(
        token=token,
        scope="rrsets",
        values={"domain": None, "subname": None, "type": None, **values},
        perm_write=perm_write,
    )


def settled(client, snapshot):
    """The snapshot after one request of ``client``, which sets its token's last_used."""
    client.get(RRSETS)
    return snapshot()


def bulk(client, method, items, url=RRSETS):
    return getattr(client, method)(url, items, format="json")


class TestCreate:
    def test_creates_every_rrset_listed_in_order(self, domain, alice_client):
        touched = domain.touched

        response = bulk(
            alice_client,
            "post",
            [
                {"subname": "mail", "type": "MX", "ttl": 3600, "records": ["10 mx.example."]},
                {"type": "TXT", "ttl": 60, "records": ['"hello"']},
                {"subname": "ftp", "type": "A", "ttl": 300, "records": ["192.0.2.9"]},
            ],
        )

        assert response.status_code == 201
        body = response.json()
        assert [(item["name"], item["type"]) for item in body] == [
            ("mail.alice.example.", "MX"),
            ("alice.example.", "TXT"),
            ("ftp.alice.example.", "A"),
        ]
        assert body[0]["domain"] == "alice.example"
        assert stored()[("", "TXT")] == (60, ['"hello"'])
        assert stored()[("ftp", "A")] == (300, ["192.0.2.9"])
        assert len(stored()) == 6
        assert Domain.objects.get(pk=domain.pk).touched > touched

    def test_an_empty_list_creates_nothing(self, domain, alice_client):
        response = bulk(alice_client, "post", [])

        assert response.status_code == 201
        assert response.json() == []
        assert len(stored()) == 3

    def test_an_existing_rrset_is_a_400_at_its_position(self, domain, alice_client, snapshot):
        before = settled(alice_client, snapshot)

        response = bulk(
            alice_client,
            "post",
            [
                {"subname": "new", "type": "A", "ttl": 3600, "records": ["192.0.2.5"]},
                {"subname": "www", "type": "A", "ttl": 3600, "records": ["192.0.2.6"]},
            ],
        )

        assert response.status_code == 400
        assert response.json() == [
            {},
            {
                "non_field_errors": [
                    "Another RRset with the same subdomain and type exists for this domain."
                ]
            },
        ]
        assert snapshot() == before

    def test_empty_records_are_a_400_when_creating(self, domain, alice_client):
        response = bulk(
            alice_client, "post", [{"subname": "new", "type": "A", "ttl": 60, "records": []}]
        )

        assert response.status_code == 400
        assert list(response.json()[0]) == ["records"]
        assert len(stored()) == 3


class TestPatch:
    def test_changes_only_the_fields_given(self, domain, alice_client):
        response = bulk(
            alice_client,
            "patch",
            [
                {"subname": "www", "type": "A", "ttl": 120},
                {"type": "A", "records": ["192.0.2.100"]},
            ],
        )

        assert response.status_code == 200
        assert [(item["subname"], item["ttl"], item["records"]) for item in response.json()] == [
            ("www", 120, ["192.0.2.2"]),
            ("", 3600, ["192.0.2.100"]),
        ]
        assert stored() == {
            ("", "A"): (3600, ["192.0.2.100"]),
            ("www", "A"): (120, ["192.0.2.2"]),
            ("www", "AAAA"): (3600, ["2001:db8::2"]),
        }

    def test_creates_modifies_and_deletes_in_one_request(self, domain, alice_client):
        response = bulk(
            alice_client,
            "patch",
            [
                {"subname": "new", "type": "A", "ttl": 60, "records": ["192.0.2.7"]},
                {"subname": "www", "type": "AAAA", "records": []},
                {"subname": "www", "type": "A", "records": ["192.0.2.8"]},
                {"subname": "nothing", "type": "TXT", "records": []},
            ],
        )

        assert response.status_code == 200
        assert [(item["subname"], item["type"]) for item in response.json()] == [
            ("new", "A"),
            ("www", "A"),
        ]
        assert stored() == {
            ("", "A"): (3600, ["192.0.2.1"]),
            ("new", "A"): (60, ["192.0.2.7"]),
            ("www", "A"): (3600, ["192.0.2.8"]),
        }

    @pytest.mark.parametrize("missing", ["ttl", "records"])
    def test_creating_needs_ttl_and_records(self, domain, alice_client, missing):
        item = {"subname": "new", "type": "A", "ttl": 60, "records": ["192.0.2.7"]}
        del item[missing]

        response = bulk(alice_client, "patch", [item])

        assert response.status_code == 400
        assert response.json() == [{missing: ["This field is required."]}]
        assert len(stored()) == 3

    def test_type_is_required(self, domain, alice_client):
        response = bulk(alice_client, "patch", [{"subname": "www", "records": []}])

        assert response.status_code == 400
        assert response.json()[0]["type"] == ["This field is required."]
        assert len(stored()) == 3


class TestPut:
    def test_creates_and_replaces_and_leaves_unlisted_rrsets_alone(self, domain, alice_client):
        """deSEC's bulk PUT replaces the RRsets listed; it does not delete the others."""
        response = bulk(
            alice_client,
            "put",
            [
                {"subname": "www", "type": "A", "ttl": 300, "records": ["192.0.2.30"]},
                {"subname": "new", "type": "AAAA", "ttl": 60, "records": ["2001:db8::7"]},
            ],
        )

        assert response.status_code == 200
        assert len(response.json()) == 2
        assert stored() == {
            ("", "A"): (3600, ["192.0.2.1"]),
            ("new", "AAAA"): (60, ["2001:db8::7"]),
            ("www", "A"): (300, ["192.0.2.30"]),
            ("www", "AAAA"): (3600, ["2001:db8::2"]),
        }

    def test_empty_records_delete(self, domain, alice_client):
        response = bulk(
            alice_client, "put", [{"subname": "www", "type": "AAAA", "ttl": 3600, "records": []}]
        )

        assert response.status_code == 200
        assert response.json() == []
        assert ("www", "AAAA") not in stored()

    @pytest.mark.parametrize("missing", ["type", "ttl", "records"])
    def test_every_field_but_subname_is_required(self, domain, alice_client, missing):
        item = {"subname": "www", "type": "A", "ttl": 60, "records": ["192.0.2.7"]}
        del item[missing]

        response = bulk(alice_client, "put", [item])

        assert response.status_code == 400
        assert response.json() == [{missing: ["This field is required."]}]
        assert stored()[("www", "A")] == (3600, ["192.0.2.2"])


class TestInvalidInput:
    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_an_object_instead_of_a_list_is_a_400(self, domain, alice_client, method):
        response = bulk(
            alice_client, method, {"subname": "www", "type": "A", "ttl": 60, "records": []}
        )

        assert response.status_code == 400
        assert response.json() == {"non_field_errors": ["Expected a list of items but got dict."]}
        assert len(stored()) == 3

    @pytest.mark.parametrize("method", METHODS)
    def test_an_element_that_is_not_an_object_is_a_400_at_its_position(
        self, domain, alice_client, method
    ):
        response = bulk(
            alice_client,
            method,
            [{"subname": "new", "type": "A", "ttl": 60, "records": ["192.0.2.7"]}, "www"],
        )

        assert response.status_code == 400
        assert response.json() == [
            {},
            {"non_field_errors": ["Expected a dictionary, but got str."]},
        ]
        assert len(stored()) == 3

    @pytest.mark.parametrize("method", METHODS)
    @pytest.mark.parametrize(
        ("bad", "field"),
        [
            ({"subname": "WWW"}, "subname"),
            ({"subname": "nul\x00"}, "subname"),
            ({"subname": 5}, "subname"),
            ({"subname": None}, "subname"),
            ({"type": " A"}, "type"),
            ({"type": 1}, "type"),
            ({"type": "a"}, "type"),
            ({"type": "A\x00"}, "type"),
            ({"type": None}, "type"),
            ({"ttl": 59}, "ttl"),
            ({"records": ["not-an-address"]}, "records"),
            ({"records": "192.0.2.1"}, "records"),
        ],
    )
    def test_one_bad_element_stores_nothing(
        self, domain, alice_client, snapshot, method, bad, field
    ):
        """Atomicity: the good elements around a bad one are not written either."""
        before = settled(alice_client, snapshot)
        items = [
            {"subname": "one", "type": "A", "ttl": 60, "records": ["192.0.2.7"]},
            {"subname": "two", "type": "A", "ttl": 60, "records": ["192.0.2.8"], **bad},
            {"subname": "www", "type": "AAAA", "ttl": 60, "records": []},
        ]
        if method == "post":
            items.pop()

        response = bulk(alice_client, method, items)

        assert response.status_code == 400
        errors = response.json()
        assert len(errors) == len(items)
        assert errors[0] == {}
        assert field in errors[1]
        assert all(error == {} for error in errors[2:])
        assert snapshot() == before


class TestDuplicateElements:
    @pytest.mark.parametrize("method", METHODS)
    def test_the_same_rrset_twice_is_a_400_at_both_positions(
        self, domain, alice_client, snapshot, method
    ):
        before = settled(alice_client, snapshot)

        response = bulk(
            alice_client,
            method,
            [
                {"subname": "dup", "type": "A", "ttl": 60, "records": ["192.0.2.7"]},
                {"subname": "other", "type": "A", "ttl": 60, "records": ["192.0.2.7"]},
                {"subname": "dup", "type": "A", "ttl": 60, "records": ["192.0.2.8"]},
            ],
        )

        assert response.status_code == 400
        assert response.json() == [
            {
                "non_field_errors": [
                    "Same subname and type as in position(s) 2, but must be unique."
                ]
            },
            {},
            {
                "non_field_errors": [
                    "Same subname and type as in position(s) 0, but must be unique."
                ]
            },
        ]
        assert snapshot() == before

    @pytest.mark.parametrize("method", METHODS)
    def test_an_omitted_subname_is_the_apex(self, domain, alice_client, method):
        response = bulk(
            alice_client,
            method,
            [
                {"type": "TXT", "ttl": 60, "records": ['"a"']},
                {"subname": "", "type": "TXT", "ttl": 60, "records": ['"b"']},
            ],
        )

        assert response.status_code == 400
        assert all("non_field_errors" in error for error in response.json())
        assert ("", "TXT") not in stored()


REFUSED_WRITES = [
    {"subname": "", "type": "TXT", "ttl": 60, "records": ['"refused"']},
    {"subname": "mail", "type": "MX", "ttl": 60, "records": ["10 mx.example."]},
]
REFUSED_DELETES = [
    {"subname": "", "type": "A", "ttl": 60, "records": []},
    {"subname": "nothing", "type": "A", "ttl": 60, "records": []},
]
# POST never deletes (empty records are a 400 there), so deletes go with PUT and PATCH only.
REFUSED_ELEMENTS = [
    *((method, item) for method in METHODS for item in REFUSED_WRITES),
    *((method, item) for method in ("put", "patch") for item in REFUSED_DELETES),
]


class TestPolicies:
    @pytest.fixture
    def restricted(self, alice, domain, client_for):
        """An API token that may write www (any type) of alice.example only."""
        client = client_for(alice, name="www only")
        add_policy(client.token)
        add_policy(client.token, perm_write=True, domain=domain.pk, subname="www")
        return client

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_writes_where_every_element_is_allowed(self, restricted, method):
        response = bulk(
            restricted,
            method,
            [
                {"subname": "www", "type": "A", "ttl": 60, "records": ["192.0.2.40"]},
                {"subname": "www", "type": "AAAA", "ttl": 60, "records": []},
                {"subname": "www", "type": "TXT", "ttl": 60, "records": ['"new"']},
            ],
        )

        assert response.status_code == 200
        assert stored() == {
            ("", "A"): (3600, ["192.0.2.1"]),
            ("www", "A"): (60, ["192.0.2.40"]),
            ("www", "TXT"): (60, ['"new"']),
        }

    @pytest.mark.parametrize(("method", "refused"), REFUSED_ELEMENTS)
    def test_one_refused_element_refuses_the_request(self, restricted, snapshot, method, refused):
        before = settled(restricted, snapshot)
        allowed = {"subname": "www", "type": "TXT", "ttl": 60, "records": ['"ok"']}

        response = bulk(restricted, method, [allowed, refused])

        assert response.status_code == 403
        assert response.json() == DENIED
        assert snapshot() == before

    def test_invalid_input_is_reported_before_policies(self, restricted):
        response = bulk(
            restricted, "patch", [{"subname": "", "type": "A", "ttl": 1, "records": ["192.0.2.1"]}]
        )

        assert response.status_code == 400
        assert list(response.json()[0]) == ["ttl"]


class TestWhoMayWrite:
    @pytest.mark.parametrize("method", METHODS)
    def test_an_unpromoted_login_token_is_challenged(
        self, alice, alice_factor, domain, client_for, snapshot, method
    ):
        client = client_for(alice, mfa=False)
        before = settled(client, snapshot)

        response = bulk(
            client,
            method,
            [{"subname": "new", "type": "A", "ttl": 60, "records": ["192.0.2.7"]}],
        )

        assert response.status_code == 401
        assert response.json()["code"] == "mfa_required"
        assert 'error="insufficient_user_authentication"' in response["WWW-Authenticate"]
        assert snapshot() == before

    def test_a_promoted_login_token_writes(self, alice, alice_factor, domain, client_for):
        client = client_for(alice, mfa=True)

        response = bulk(
            client, "post", [{"subname": "new", "type": "A", "ttl": 60, "records": ["192.0.2.7"]}]
        )

        assert response.status_code == 201
        assert ("new", "A") in stored()

    @pytest.mark.parametrize("method", METHODS)
    @pytest.mark.parametrize("records", [["192.0.2.66"], ["not-an-address"]])
    def test_another_users_domain_is_404_and_unchanged(
        self, bob, alice_client, make_domain, snapshot, method, records
    ):
        make_domain(bob, "bob.example", [("www", "A", ["192.0.2.1"])])
        before = settled(alice_client, snapshot)

        response = bulk(
            alice_client,
            method,
            [{"subname": "www", "type": "A", "ttl": 60, "records": records}],
            url=f"{API}/domains/bob.example/rrsets/",
        )

        assert response.status_code == 404
        assert snapshot() == before

    def test_an_anonymous_request_is_401(self, domain, api_client, snapshot):
        before = settled(api_client, snapshot)

        response = bulk(api_client, "patch", [{"subname": "www", "type": "A", "records": []}])

        assert response.status_code == 401
        assert snapshot() == before


def mixed_request(count):
    """``count`` elements: a third change stored RRsets, a third create, a third delete."""
    items = []
    for index in range(count):
        kind = index % 3
        if kind == 0:
            items.append({"subname": f"keep{index}", "type": "A", "ttl": 120})
        elif kind == 1:
            items.append(
                {"subname": f"new{index}", "type": "A", "ttl": 60, "records": ["192.0.2.7"]}
            )
        else:
            items.append({"subname": f"gone{index}", "type": "A", "records": []})
    return items


class TestQueryCount:
    @pytest.fixture
    def big_domain(self, alice, make_domain):
        """Stored RRsets for every element of mixed_request(50) that changes or deletes."""
        rrsets = []
        for index in range(50):
            if index % 3 == 0:
                rrsets.append((f"keep{index}", "A", ["192.0.2.1"]))
            elif index % 3 == 2:
                rrsets.append((f"gone{index}", "A", ["192.0.2.1"]))
        return make_domain(alice, "alice.example", rrsets)

    @pytest.fixture
    def restricted(self, alice, big_domain, client_for):
        client = client_for(alice)
        add_policy(client.token)
        add_policy(client.token, perm_write=True, domain=big_domain.pk)
        add_policy(client.token, subname="protected")
        return client

    def test_fifty_elements_cost_no_more_than_five(
        self, big_domain, restricted, django_assert_max_num_queries
    ):
        restricted.get(RRSETS)
        with django_assert_max_num_queries(12) as few:
            small = bulk(restricted, "patch", mixed_request(5))
        assert small.status_code == 200
        RRset.objects.filter(subname__startswith="new").delete()

        with django_assert_max_num_queries(len(few.captured_queries)):
            large = bulk(restricted, "patch", mixed_request(50))

        assert large.status_code == 200
        assert len(large.json()) == 34
        assert not RRset.objects.filter(subname__startswith="gone").exists()
        assert RRset.objects.filter(subname__startswith="new").count() == 17
        assert set(
            RRset.objects.filter(subname__startswith="keep").values_list("ttl", flat=True)
        ) == {120}


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_a_bulk_request_is_capped(alice_client, domain, snapshot, monkeypatch, method):
    monkeypatch.setattr(bulk_module, "MAX_ELEMENTS", 3)
    before = settled(alice_client, snapshot)
    items = [
        {"subname": f"s{i}", "type": "A", "ttl": 3600, "records": ["192.0.2.1"]} for i in range(4)
    ]
    response = bulk(alice_client, method, items)
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["At most 3 RRsets per bulk request."]}
    assert snapshot() == before
