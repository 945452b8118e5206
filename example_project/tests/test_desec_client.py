"""deSEC's own Python client, ``desec-dns``, drives the example on a live server, unchanged
but for its base URL: domains, RRsets (single and bulk), pagination, tokens and policies, and
each error surfacing as the client's exception for it.

``desec-dns`` 1.5.0 has no ``owns_qname`` call; test_owns_qname.py covers that filter.
"""

import desec.api
import desec.exceptions
import pytest
import requests

from dnsapi.models import Domain, RRset

from .conftest import PASSWORD

DOMAIN = "alice.example"
NAMESERVERS = ["ns1.example.net.", "ns2.example.org."]
DENIED = "Restricted token: Insufficient token permissions."


@pytest.fixture
def api_url(live_server, monkeypatch):
    """The live server's API; the client reads its module's ``API_BASE_URL`` per request."""
    url = f"{live_server.url}/api/v1"
    monkeypatch.setattr(desec.api, "API_BASE_URL", url)
    return url


@pytest.fixture
def login_token(api_url, alice, settings):
    settings.DNSAPI_NAMESERVERS = NAMESERVERS
    response = requests.post(
        f"{api_url}/auth/login/",
        json={"email": alice.email, "password": PASSWORD},
        timeout=15,
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture
def desec_client(login_token):
    return desec.api.APIClient(login_token, retry_limit=0)


@pytest.fixture
def domain(desec_client):
    return desec_client.new_domain(DOMAIN)


def rrsets(client):
    """The domain's RRsets as the client reads them: {(subname, type): (ttl, records)}."""
    return {
        (rrset["subname"], rrset["type"]): (rrset["ttl"], rrset["records"])
        for rrset in client.get_records(DOMAIN)
    }


class TestDomains:
    def test_create_read_list_delete(self, desec_client):
        assert desec_client.list_domains() == []

        created = desec_client.new_domain(DOMAIN)
        info = desec_client.domain_info(DOMAIN)
        listed = desec_client.list_domains()

        assert created == info
        assert info["name"] == DOMAIN
        assert info["minimum_ttl"] == 3600
        [key] = info["keys"]
        assert set(key) == {"dnskey", "ds", "flags", "keytype", "managed"}
        assert key["dnskey"].startswith("257 3 13 ")
        assert (key["flags"], key["keytype"], key["managed"]) == (257, "csk", True)
        assert [item["name"] for item in listed] == [DOMAIN]
        assert "keys" not in listed[0]
        assert rrsets(desec_client) == {("", "NS"): (3600, NAMESERVERS)}

        desec_client.delete_domain(DOMAIN)

        assert desec_client.list_domains() == []
        assert not RRset.objects.exists()

    def test_an_unknown_domain_is_the_clients_not_found(self, desec_client):
        for call in (desec_client.domain_info, desec_client.get_records):
            with pytest.raises(desec.exceptions.NotFoundError) as raised:
                call("missing.example")
            assert str(raised.value) == "Not found."

    def test_another_accounts_name_is_the_clients_parameter_error(
        self, desec_client, bob, make_domain
    ):
        make_domain(bob, "bob.example")

        for name in ("bob.example", "www.bob.example"):
            with pytest.raises(desec.exceptions.ParameterError) as raised:
                desec_client.new_domain(name)
            assert str(raised.value) == (
                "Invalid parameter(s):\nname:\n  This domain name is unavailable."
            )
        assert list(Domain.objects.values_list("name", flat=True)) == ["bob.example"]

    def test_an_invalid_token_is_the_clients_authentication_error(self, api_url, db):
        client = desec.api.APIClient("stp_not-a-token", retry_limit=0)

        with pytest.raises(desec.exceptions.AuthenticationError):
            client.list_domains()


@pytest.mark.usefixtures("domain")
class TestRRsets:
    def test_txt_and_mx_added_changed_and_deleted(self, desec_client):
        txt = desec_client.add_record(DOMAIN, "TXT", "", ['"v=spf1 -all"'], 3600)
        desec_client.add_record(DOMAIN, "MX", "", ["10 mx.alice.example."], 3600)
        desec_client.add_record(DOMAIN, "TXT", "_dmarc", ['"v=DMARC1\\; p=reject"'], 3600)

        assert txt["name"] == "alice.example."
        assert txt["records"] == ['"v=spf1 -all"']
        assert [r["type"] for r in desec_client.get_records(DOMAIN, subname="")] == [
            "MX",
            "NS",
            "TXT",
        ]
        assert [r["subname"] for r in desec_client.get_records(DOMAIN, rtype="TXT")] == [
            "",
            "_dmarc",
        ]

        changed = desec_client.change_record(DOMAIN, "MX", "", ["20 mx2.alice.example."], 7200)
        desec_client.update_record(DOMAIN, "TXT", "", ['"google-site-verification=x"'])
        desec_client.delete_record(DOMAIN, "TXT", "", ['"v=spf1 -all"'])
        desec_client.delete_record(DOMAIN, "TXT", "_dmarc")
        desec_client.delete_record(DOMAIN, "A", "never-existed")

        assert (changed["ttl"], changed["records"]) == (7200, ["20 mx2.alice.example."])
        assert rrsets(desec_client) == {
            ("", "NS"): (3600, NAMESERVERS),
            ("", "MX"): (7200, ["20 mx2.alice.example."]),
            ("", "TXT"): (3600, ['"google-site-verification=x"']),
        }

    def test_records_come_back_in_canonical_form(self, desec_client):
        desec_client.add_record(DOMAIN, "TXT", "_dmarc", ['"v=DMARC1\\; p=reject"'], 3600)
        desec_client.add_record(DOMAIN, "AAAA", "www", ["2001:DB8:0:0::1"], 3600)

        assert desec_client.get_records(DOMAIN, "TXT", "_dmarc")[0]["records"] == [
            '"v=DMARC1; p=reject"'
        ]
        assert desec_client.get_records(DOMAIN, "AAAA", "www")[0]["records"] == ["2001:db8::1"]

    @pytest.mark.parametrize(
        ("records", "ttl", "message"),
        [
            (["192.0.2.1"], 3599, "ttl:\n  Ensure this value is greater than or equal to 3600."),
            (["192.0.2.1"], 86401, "ttl:\n  Ensure this value is less than or equal to 86400."),
            (["not-an-address"], 3600, "records:\n  Record content of A www.alice.example."),
        ],
    )
    def test_invalid_rrsets_are_the_clients_parameter_error(
        self, desec_client, records, ttl, message
    ):
        with pytest.raises(desec.exceptions.ParameterError) as raised:
            desec_client.add_record(DOMAIN, "A", "www", records, ttl)

        assert str(raised.value).startswith(f"Invalid parameter(s):\n{message}")
        assert rrsets(desec_client) == {("", "NS"): (3600, NAMESERVERS)}

    def test_changing_a_missing_rrset_is_the_clients_not_found(self, desec_client):
        with pytest.raises(desec.exceptions.NotFoundError):
            desec_client.change_record(DOMAIN, "A", "missing", ["192.0.2.1"])


@pytest.mark.usefixtures("domain")
class TestBulk:
    def test_bulk_creates_changes_and_deletes(self, desec_client):
        created = desec_client.update_bulk_record(
            DOMAIN,
            [
                {"subname": "", "type": "MX", "ttl": 3600, "records": ["10 mx.alice.example."]},
                {"subname": "_dmarc", "type": "TXT", "ttl": 3600, "records": ['"v=DMARC1"']},
                {"subname": "www", "type": "A", "ttl": 3600, "records": ["192.0.2.1"]},
            ],
        )
        desec_client.update_bulk_record(
            DOMAIN,
            [
                {"subname": "", "type": "MX", "ttl": 7200},
                {"subname": "_dmarc", "type": "TXT", "records": []},
            ],
        )

        assert len(created) == 3
        assert rrsets(desec_client) == {
            ("", "NS"): (3600, NAMESERVERS),
            ("", "MX"): (7200, ["10 mx.alice.example."]),
            ("www", "A"): (3600, ["192.0.2.1"]),
        }

    def test_an_exclusive_bulk_update_leaves_only_the_rrsets_it_lists(self, desec_client):
        desec_client.add_record(DOMAIN, "A", "old", ["192.0.2.1"], 3600)

        desec_client.update_bulk_record(
            DOMAIN,
            [
                {"subname": "", "type": "NS", "ttl": 3600, "records": NAMESERVERS},
                {"subname": "new", "type": "A", "ttl": 3600, "records": ["192.0.2.2"]},
            ],
            exclusive=True,
        )

        assert rrsets(desec_client) == {
            ("", "NS"): (3600, NAMESERVERS),
            ("new", "A"): (3600, ["192.0.2.2"]),
        }

    def test_an_invalid_element_is_the_clients_parameter_error_and_writes_nothing(
        self, desec_client
    ):
        with pytest.raises(desec.exceptions.ParameterError):
            desec_client.update_bulk_record(
                DOMAIN,
                [
                    {"subname": "ok", "type": "A", "ttl": 3600, "records": ["192.0.2.1"]},
                    {"subname": "bad", "type": "A", "ttl": 60, "records": ["192.0.2.1"]},
                ],
            )

        assert rrsets(desec_client) == {("", "NS"): (3600, NAMESERVERS)}

    def test_a_zone_above_the_page_size_is_read_whole_through_the_link_headers(self, desec_client):
        zone = Domain.objects.get(name=DOMAIN)
        RRset.objects.bulk_create(
            RRset(domain=zone, subname=f"h{i:04}", type=t, ttl=3600, records=[content])
            for i in range(600)
            for t, content in (("A", "192.0.2.1"), ("AAAA", "2001:db8::1"))
        )

        everything = desec_client.get_records(DOMAIN)
        addresses = desec_client.get_records(DOMAIN, rtype="A")

        assert len(everything) == 1201
        assert len({(r["subname"], r["type"]) for r in everything}) == 1201
        assert [r["subname"] for r in addresses] == [f"h{i:04}" for i in range(600)]


@pytest.fixture
def restricted(desec_client, domain):
    """A token of alice's made with the client: it may write www/A of alice.example only."""
    token = desec_client.create_token(name="www only")
    desec_client.add_token_policy(token["id"])
    desec_client.add_token_policy(
        token["id"], domain=DOMAIN, subname="www", rtype="A", perm_write=True
    )
    return desec.api.APIClient(token["token"], retry_limit=0)


class TestRestrictedToken:
    def test_policies_made_with_the_client_are_listed(self, desec_client, restricted):
        [token] = [t for t in desec_client.list_tokens() if t["name"] == "www only"]

        policies = desec_client.list_token_policies(token["id"])

        assert sorted(
            (p["domain"] or "", p["subname"] or "", p["perm_write"]) for p in policies
        ) == [
            ("", "", False),
            (DOMAIN, "www", True),
        ]

    def test_writes_where_a_policy_allows(self, desec_client, restricted):
        restricted.add_record(DOMAIN, "A", "www", ["192.0.2.1"], 3600)
        restricted.change_record(DOMAIN, "A", "www", ["192.0.2.2"])

        assert rrsets(desec_client)[("www", "A")] == (3600, ["192.0.2.2"])

    def test_a_denial_is_the_clients_token_permission_error(self, desec_client, restricted):
        writes = [
            lambda: restricted.add_record(DOMAIN, "TXT", "", ['"x"'], 3600),
            lambda: restricted.change_record(DOMAIN, "NS", "", ["ns.example.com."]),
            lambda: restricted.delete_record(DOMAIN, "NS", ""),
            lambda: restricted.update_bulk_record(
                DOMAIN,
                [
                    {"subname": "www", "type": "A", "ttl": 3600, "records": ["192.0.2.1"]},
                    {"subname": "ftp", "type": "A", "ttl": 3600, "records": ["192.0.2.1"]},
                ],
            ),
        ]
        for write in writes:
            with pytest.raises(desec.exceptions.TokenPermissionError) as raised:
                write()
            assert str(raised.value) == DENIED

        assert rrsets(desec_client) == {("", "NS"): (3600, NAMESERVERS)}
        assert rrsets(restricted) == {("", "NS"): (3600, NAMESERVERS)}

    def test_flags_it_lacks_are_the_clients_token_permission_error(self, desec_client, restricted):
        for call in (
            restricted.list_tokens,
            lambda: restricted.new_domain("other.example"),
            lambda: restricted.delete_domain(DOMAIN),
        ):
            with pytest.raises(desec.exceptions.TokenPermissionError):
                call()

        assert [d["name"] for d in desec_client.list_domains()] == [DOMAIN]


def test_tokens_and_policies_through_their_whole_life(desec_client, domain):
    token = desec_client.create_token(
        name="ci",
        create_domain=True,
        allowed_subnets=["192.0.2.0/24", "127.0.0.0/8", "::1/128"],
        max_unused_period="1 00:00:00",
    )
    ci = desec.api.APIClient(token["token"], retry_limit=0)
    changed = desec_client.modify_token(token["id"], name="ci bot", max_age="30 00:00:00")
    default = desec_client.add_token_policy(token["id"])
    www = desec_client.add_token_policy(
        token["id"], domain=DOMAIN, subname="www", rtype="A", perm_write=False
    )

    with pytest.raises(desec.exceptions.ConflictError) as duplicate:
        desec_client.add_token_policy(token["id"], domain=DOMAIN, subname="www", rtype="A")
    with pytest.raises(desec.exceptions.TokenPermissionError):
        ci.add_record(DOMAIN, "A", "www", ["192.0.2.1"], 3600)
    desec_client.modify_token_policy(token["id"], www["id"], perm_write=True)
    ci.add_record(DOMAIN, "A", "www", ["192.0.2.1"], 3600)
    with pytest.raises(desec.exceptions.ParameterError):  # deSEC's rule: default goes last
        desec_client.delete_token_policy(token["id"], default["id"])
    desec_client.delete_token_policy(token["id"], www["id"])
    desec_client.delete_token_policy(token["id"], default["id"])
    ci.add_record(DOMAIN, "TXT", "", ['"unrestricted again"'], 3600)
    desec_client.delete_token(token["id"])

    assert (token["perm_create_domain"], token["perm_manage_tokens"]) == (True, False)
    assert token["allowed_subnets"] == ["192.0.2.0/24", "127.0.0.0/8", "::1/128"]
    assert (changed["name"], changed["max_age"], changed["max_unused_period"]) == (
        "ci bot",
        "30 00:00:00",
        "1 00:00:00",
    )
    assert (
        str(duplicate.value) == "Conflict:\nThis token already has a policy for this combination."
    )
    with pytest.raises(desec.exceptions.AuthenticationError):
        ci.list_domains()
    assert [t["name"] for t in desec_client.list_tokens()] == [""]
    assert set(rrsets(desec_client)) == {("", "NS"), ("www", "A"), ("", "TXT")}
