"""Record contents validated per type and stored in canonical presentation format (parsed
by dnspython, as deSEC does), and TTLs between the domain's minimum_ttl and 86400."""

import pytest

from dnsapi.models import RRset

from .conftest import API

RRSETS = f"{API}/domains/alice.example/rrsets/"
HEX32 = "AB" * 32

CANONICAL = [
    ("A", "192.0.2.1", "192.0.2.1"),
    ("AAAA", "2001:DB8:0:0::1", "2001:db8::1"),
    ("AAAA", "::ffff:192.0.2.1", "::ffff:c000:201"),
    ("CAA", '0  issue  "letsencrypt.org"', '0 issue "letsencrypt.org"'),
    ("CNAME", "Target.Example.", "Target.Example."),
    ("DS", "6006 13 2 " + HEX32, "6006 13 2 " + HEX32.lower()),
    ("HTTPS", '1 . alpn="h2,h3" port=443', "1 . alpn=h2,h3 port=443"),
    ("MX", "10   mail.example.", "10 mail.example."),
    ("MX", "0 .", "0 ."),
    ("NS", "NS1.example.net.", "NS1.example.net."),
    ("PTR", "host.example.", "host.example."),
    ("SRV", "0 5 5060 sip.example.", "0 5 5060 sip.example."),
    ("SSHFP", "4 2 " + HEX32, "4 2 " + HEX32.lower()),
    (
        "SVCB",
        "1 svc.example. ipv4hint=192.0.2.1 alpn=h2",
        "1 svc.example. alpn=h2 ipv4hint=192.0.2.1",
    ),
    ("TLSA", "3 1 1 " + HEX32[:32] + " " + HEX32[32:], "3 1 1 " + HEX32.lower()),
    ("TXT", '"v=DMARC1\\; p=reject"', '"v=DMARC1; p=reject"'),
    ("TXT", '"a" "b"', '"a" "b"'),
    ("TXT", '"' + "k" * 300 + '"', '"' + "k" * 255 + '" "' + "k" * 45 + '"'),
]

MALFORMED = [
    ("A", "192.0.2"),
    ("A", "192.0.2.01"),
    ("AAAA", "192.0.2.1"),
    ("CAA", "0 issue letsencrypt.org extra"),
    ("CNAME", "target.example"),  # not absolute
    ("DS", "6006 13 2 F34B"),  # digest too short for SHA-256
    ("HTTPS", "1 . alpn"),
    ("MX", "mail.example."),
    ("MX", "10 mail.example"),
    ("NS", "ns_1.example."),  # not a host name
    ("PTR", "host.example"),
    ("SRV", "0 5 sip.example."),
    ("SSHFP", "1 1 XYZ"),
    ("SVCB", "1 svc.example. port=http"),
    ("TLSA", "3 1 1 ABCD"),
    ("TXT", "v=spf1 -all"),  # deSEC wants it quoted
    ("TXT", '"unterminated'),
]


@pytest.fixture
def alice_client(alice, client_for):
    return client_for(alice, mfa=False)


@pytest.fixture
def domain(alice, make_domain):
    return make_domain(alice, "alice.example", minimum_ttl=3600)


@pytest.mark.parametrize(("record_type", "sent", "stored"), CANONICAL)
def test_created_records_read_back_canonical(domain, alice_client, record_type, sent, stored):
    subname = "rr"
    body = {"subname": subname, "type": record_type, "ttl": 3600, "records": [sent]}

    created = alice_client.post(RRSETS, body, format="json")
    read = alice_client.get(f"{RRSETS}{subname}.../{record_type}/")

    assert created.status_code == 201, created.content
    assert created.json()["records"] == read.json()["records"] == [stored]
    assert RRset.objects.get(subname=subname, type=record_type).records == [stored]


@pytest.mark.parametrize(("record_type", "sent", "stored"), CANONICAL[:4])
def test_patch_and_bulk_store_canonical_records(domain, alice_client, record_type, sent, stored):
    alice_client.post(
        RRSETS,
        {"subname": "rr", "type": record_type, "ttl": 3600, "records": [sent]},
        format="json",
    )
    RRset.objects.filter(type=record_type).update(records=[])

    patched = alice_client.patch(
        f"{RRSETS}rr.../{record_type}/", {"records": [sent]}, format="json"
    )
    bulk = alice_client.patch(
        RRSETS,
        [{"subname": "bulk", "type": record_type, "ttl": 3600, "records": [sent]}],
        format="json",
    )

    assert patched.json()["records"] == [stored]
    assert bulk.json()[0]["records"] == [stored]
    assert RRset.objects.get(subname="bulk", type=record_type).records == [stored]


@pytest.mark.parametrize(("record_type", "record"), MALFORMED)
def test_malformed_contents_are_400_naming_records_and_the_record(
    domain, alice_client, record_type, record
):
    body = {"subname": "rr", "type": record_type, "ttl": 3600, "records": [record]}

    single = alice_client.post(RRSETS, body, format="json")
    bulk = alice_client.put(RRSETS, [body], format="json")

    assert single.status_code == bulk.status_code == 400
    (message,) = single.json()["records"]
    assert message.startswith(f"Record content of {record_type} rr.alice.example. invalid: ")
    assert repr(record) in message
    assert bulk.json() == [single.json()]
    assert not RRset.objects.exists()


@pytest.mark.parametrize(
    "records",
    [
        ["2001:db8::1", "2001:DB8:0::1"],
        ["10 mail.example.", "10 MAIL.example."],
        ['"a" "b"', '"a"  "b"'],
    ],
)
def test_records_equal_in_canonical_form_are_duplicates(domain, alice_client, records):
    record_type = {"2": "AAAA", "1": "MX", '"': "TXT"}[records[0][0]]
    body = {"subname": "rr", "type": record_type, "ttl": 3600, "records": records}

    response = alice_client.post(RRSETS, body, format="json")

    assert response.status_code == 400
    assert response.json() == {"records": ["Records must be unique."]}


class TestTTL:
    @pytest.mark.parametrize("ttl", [3600, 86400])
    def test_between_the_minimum_ttl_and_a_day(self, domain, alice_client, ttl):
        body = {"subname": "rr", "type": "A", "ttl": ttl, "records": ["192.0.2.1"]}

        assert alice_client.post(RRSETS, body, format="json").status_code == 201

    @pytest.mark.parametrize(
        ("ttl", "message"),
        [
            (3599, "Ensure this value is greater than or equal to 3600."),
            (86401, "Ensure this value is less than or equal to 86400."),
        ],
    )
    def test_outside_is_400_naming_ttl(self, domain, alice_client, ttl, message):
        body = {"subname": "rr", "type": "A", "ttl": ttl, "records": ["192.0.2.1"]}

        single = alice_client.post(RRSETS, body, format="json")
        bulk = alice_client.patch(RRSETS, [body], format="json")

        assert single.json() == {"ttl": [message]}
        assert bulk.json() == [{"ttl": [message]}]
        assert not RRset.objects.exists()

    def test_a_domains_own_minimum_applies(self, alice, alice_client, make_domain):
        make_domain(alice, "alice.example", minimum_ttl=60)

        response = alice_client.post(
            RRSETS,
            {"subname": "rr", "type": "A", "ttl": 60, "records": ["192.0.2.1"]},
            format="json",
        )

        assert response.status_code == 201

    def test_changing_an_rrset_checks_its_domains_minimum(self, domain, alice_client):
        RRset.objects.create(domain=domain, subname="rr", type="A", ttl=3600, records=["192.0.2.1"])

        response = alice_client.patch(f"{RRSETS}rr.../A/", {"ttl": 60}, format="json")

        assert response.status_code == 400
        assert list(response.json()) == ["ttl"]
        assert RRset.objects.get().ttl == 3600
