"""API.md's RRset rows through HTTP: list with filters, create, and one RRset by each URL form."""

import pytest

from dnsapi.models import Domain, RRset

from .conftest import API

RRSETS = f"{API}/domains/alice.example/rrsets/"


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
            ("mail", "MX", ["10 mx.alice.example."]),
        ],
    )


def rrset(subname, record_type):
    return RRset.objects.get(domain__name="alice.example", subname=subname, type=record_type)


class TestList:
    def test_lists_every_rrset_of_the_domain(self, domain, alice_client):
        response = alice_client.get(RRSETS)

        assert response.status_code == 200
        assert [(item["subname"], item["type"]) for item in response.json()] == [
            ("", "A"),
            ("mail", "MX"),
            ("www", "A"),
            ("www", "AAAA"),
        ]

    def test_rrset_object_fields(self, domain, alice_client):
        item = alice_client.get(RRSETS, {"subname": "www", "type": "A"}).json()[0]

        assert set(item) == {
            "domain",
            "subname",
            "name",
            "type",
            "records",
            "ttl",
            "created",
            "touched",
        }
        assert item["domain"] == "alice.example"
        assert item["name"] == "www.alice.example."
        assert item["records"] == ["192.0.2.2"]

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({"subname": "www"}, [("www", "A"), ("www", "AAAA")]),
            ({"type": "A"}, [("", "A"), ("www", "A")]),
            ({"subname": "www", "type": "AAAA"}, [("www", "AAAA")]),
            ({"subname": ""}, [("", "A")]),
            ({"subname": "nothing"}, []),
        ],
    )
    def test_filters(self, domain, alice_client, query, expected):
        response = alice_client.get(RRSETS, query)

        assert response.status_code == 200
        assert [(item["subname"], item["type"]) for item in response.json()] == expected

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"subname": "WWW"}, "subname"),
            ({"type": "a"}, "type"),
            ({"subname": "a\x00"}, "subname"),
        ],
    )
    def test_invalid_filter_is_400_naming_it(self, domain, alice_client, query, field):
        response = alice_client.get(RRSETS, query)

        assert response.status_code == 400
        assert list(response.json()) == [field]


class TestCreate:
    def test_creates_an_rrset_and_touches_the_domain(self, domain, alice_client):
        touched = domain.touched

        response = alice_client.post(
            RRSETS,
            {"subname": "ftp", "type": "A", "ttl": 3600, "records": ["192.0.2.9"]},
            format="json",
        )

        assert response.status_code == 201
        assert response.json()["name"] == "ftp.alice.example."
        assert rrset("ftp", "A").records == ["192.0.2.9"]
        assert Domain.objects.get(pk=domain.pk).touched > touched

    def test_subname_defaults_to_the_apex(self, domain, alice_client):
        response = alice_client.post(
            RRSETS, {"type": "TXT", "ttl": 3600, "records": ['"hello"']}, format="json"
        )

        assert response.status_code == 201
        assert response.json()["name"] == "alice.example."

    def test_a_duplicate_is_400_and_changes_nothing(self, domain, alice_client):
        response = alice_client.post(
            RRSETS,
            {"subname": "www", "type": "A", "ttl": 60, "records": ["192.0.2.99"]},
            format="json",
        )

        assert response.status_code == 400
        assert list(response.json()) == ["non_field_errors"]
        assert rrset("www", "A").records == ["192.0.2.2"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"subname": "WWW"}, "subname"),
            ({"subname": "bad_label-"}, "subname"),
            ({"subname": "a..b"}, "subname"),
            ({"subname": "www.*"}, "subname"),
            ({"subname": "nul\x00"}, "subname"),
            ({"subname": "x" * 179}, "subname"),
            ({"type": "a"}, "type"),
            ({"type": "BOGUS"}, "type"),
            ({"type": "A\x00"}, "type"),
            ({"ttl": 59}, "ttl"),
            ({"ttl": 604801}, "ttl"),
            ({"ttl": "sixty"}, "ttl"),
            ({"records": [1]}, "records"),
            ({"records": [{"a": 1}]}, "records"),
            ({"records": "192.0.2.1"}, "records"),
            ({"records": []}, "records"),
            ({"records": ["192.0.2.1", "192.0.2.1"]}, "records"),
            ({"records": ["not-an-address"]}, "records"),
            ({"records": ["192.0.2.1\x00"]}, "records"),
            ({"type": "AAAA", "records": ["2001:db8::g"]}, "records"),
            ({"type": "CNAME", "records": ["a.example.", "b.example."]}, "records"),
        ],
    )
    def test_invalid_input_is_400_naming_the_field(self, domain, alice_client, body, field):
        data = {"subname": "new", "type": "A", "ttl": 3600, "records": ["192.0.2.3"], **body}

        response = alice_client.post(RRSETS, data, format="json")

        assert response.status_code == 400
        assert field in response.json()
        assert RRset.objects.count() == 4

    @pytest.mark.parametrize("missing", ["type", "ttl", "records"])
    def test_required_fields(self, domain, alice_client, missing):
        data = {"subname": "new", "type": "A", "ttl": 3600, "records": ["192.0.2.3"]}
        del data[missing]

        response = alice_client.post(RRSETS, data, format="json")

        assert response.status_code == 400
        assert list(response.json()) == [missing]

    def test_in_another_users_domain_is_404(self, bob, alice_client, make_domain):
        make_domain(bob, "bob.example")

        response = alice_client.post(
            f"{API}/domains/bob.example/rrsets/",
            {"subname": "www", "type": "A", "ttl": 3600, "records": ["192.0.2.3"]},
            format="json",
        )

        assert response.status_code == 404
        assert not RRset.objects.exists()


# The three URL forms of one RRset (deSEC's): "{subname}.../{type}/", and for the apex
# ".../{type}/" or "@/{type}/".
WWW_A = f"{RRSETS}www.../A/"
APEX_FORMS = [f"{RRSETS}.../A/", f"{RRSETS}@/A/"]
ALL_FORMS = [("www", WWW_A), *(("", url) for url in APEX_FORMS)]


class TestOneRRset:
    @pytest.mark.parametrize(("subname", "url"), ALL_FORMS)
    def test_get(self, domain, alice_client, subname, url):
        response = alice_client.get(url)

        assert response.status_code == 200
        assert response.json()["subname"] == subname
        assert response.json()["records"] == rrset(subname, "A").records

    @pytest.mark.parametrize(("subname", "url"), ALL_FORMS)
    def test_patch_changes_what_it_names(self, domain, alice_client, subname, url):
        records = rrset(subname, "A").records

        response = alice_client.patch(url, {"ttl": 7200}, format="json")

        assert response.status_code == 200
        changed = rrset(subname, "A")
        assert (changed.ttl, changed.records) == (7200, records)

    @pytest.mark.parametrize(("subname", "url"), ALL_FORMS)
    def test_put_replaces(self, domain, alice_client, subname, url):
        response = alice_client.put(url, {"ttl": 300, "records": ["192.0.2.77"]}, format="json")

        assert response.status_code == 200
        assert response.json()["records"] == ["192.0.2.77"]
        changed = rrset(subname, "A")
        assert (changed.ttl, changed.records) == (300, ["192.0.2.77"])

    def test_put_needs_every_writable_field(self, domain, alice_client):
        response = alice_client.put(WWW_A, {"records": ["192.0.2.77"]}, format="json")

        assert response.status_code == 400
        assert list(response.json()) == ["ttl"]
        assert rrset("www", "A").records == ["192.0.2.2"]

    def test_subname_and_type_are_the_url_not_the_body(self, domain, alice_client):
        response = alice_client.patch(
            WWW_A, {"subname": "other", "type": "AAAA", "ttl": 120}, format="json"
        )

        assert response.status_code == 200
        assert rrset("www", "A").ttl == 120
        assert not RRset.objects.filter(subname="other").exists()

    @pytest.mark.parametrize(("subname", "url"), ALL_FORMS)
    def test_delete(self, domain, alice_client, subname, url):
        response = alice_client.delete(url)

        assert response.status_code == 204
        assert not RRset.objects.filter(subname=subname, type="A").exists()
        assert RRset.objects.count() == 3

    @pytest.mark.parametrize("method", ["patch", "put"])
    def test_empty_records_delete_the_rrset(self, domain, alice_client, method):
        response = getattr(alice_client, method)(WWW_A, {"ttl": 3600, "records": []}, format="json")

        assert response.status_code == 204
        assert not RRset.objects.filter(subname="www", type="A").exists()

    def test_deleting_a_missing_rrset_succeeds_as_in_desec(self, domain, alice_client):
        response = alice_client.delete(f"{RRSETS}nothing.../A/")

        assert response.status_code == 204
        assert RRset.objects.count() == 4

    @pytest.mark.parametrize("method", ["get", "patch", "put"])
    def test_a_missing_rrset_is_404(self, domain, alice_client, method):
        response = getattr(alice_client, method)(
            f"{RRSETS}nothing.../A/", {"ttl": 3600, "records": ["192.0.2.1"]}, format="json"
        )

        assert response.status_code == 404
        assert not RRset.objects.filter(subname="nothing").exists()

    @pytest.mark.parametrize(
        "url",
        [
            f"{RRSETS}WWW.../A/",
            f"{RRSETS}www.../a/",
            f"{RRSETS}www%00.../A/",
            f"{RRSETS}www.../A%00/",
            f"{API}/domains/alice%00.example/rrsets/www.../A/",
            f"{API}/domains/ALICE.example/rrsets/www.../A/",
        ],
    )
    @pytest.mark.parametrize("method", ["get", "patch", "delete"])
    def test_urls_that_name_nothing_are_404(self, domain, alice_client, url, method):
        response = getattr(alice_client, method)(url, {"ttl": 60}, format="json")

        assert response.status_code == 404
        assert rrset("www", "A").ttl == 3600

    @pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
    def test_another_users_rrset_is_404_and_unchanged(self, bob, alice_client, make_domain, method):
        make_domain(bob, "bob.example", [("www", "A", ["192.0.2.1"])])

        response = getattr(alice_client, method)(
            f"{API}/domains/bob.example/rrsets/www.../A/",
            {"ttl": 60, "records": ["192.0.2.66"]},
            format="json",
        )

        assert response.status_code == 404
        theirs = RRset.objects.get(domain__name="bob.example")
        assert (theirs.ttl, theirs.records) == (3600, ["192.0.2.1"])
