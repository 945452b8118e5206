import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_stepup.subnets import address_allowed, normalise_subnets

ANY = ["0.0.0.0/0", "::/0"]


@pytest.mark.parametrize(
    ("address", "subnets", "allowed"),
    [
        ("192.0.2.10", ["192.0.2.0/24"], True),
        ("198.51.100.1", ["192.0.2.0/24"], False),
        ("2001:db8::1", ["2001:db8::/32"], True),
        ("2001:db9::1", ["2001:db8::/32"], False),
        ("::ffff:192.0.2.10", ["192.0.2.0/24"], True),
        ("::ffff:198.51.100.1", ["192.0.2.0/24"], False),
        ("::ffff:198.51.100.1", ["::/0"], False),
        ("198.51.100.1", ["::/0"], False),
        ("2001:db8::1", ["0.0.0.0/0"], False),
        ("fe80::1%eth0", ["fe80::/10"], True),
        ("192.0.2.10", [], False),
        ("192.0.2.10", ANY, True),
        ("2001:db8::1", ANY, True),
        ("192.0.2.0", ["192.0.2.0/32"], True),
        ("192.0.2.255", ["192.0.2.0/24"], True),
        ("192.0.3.0", ["192.0.2.0/24"], False),
    ],
)
def test_address_allowed(address, subnets, allowed):
    assert address_allowed(address, subnets) is allowed


@pytest.mark.parametrize(
    "address", [None, "", "unknown", "unix:/run/gunicorn.sock", "1.2.3", "192.0.2.010"]
)
def test_garbage_address_fails_closed(address):
    assert address_allowed(address, ANY) is False


def test_normalise_subnets_canonicalises():
    assert normalise_subnets(["2001:DB8::/32", "10.0.0.0/8"]) == ["2001:db8::/32", "10.0.0.0/8"]


@pytest.mark.parametrize(
    "value",
    [
        "192.0.2.0/33",
        "::/129",
        "300.1.1.1/32",
        "192.000.002.000/24",
        "192.0.2.10/24",
        " 192.0.2.0/24",
        "192.0.2.0/24\n",
        "192.0.2.0/24\x00",
        "::ffff:192.0.2.0/120",
        "",
        42,
        None,
    ],
)
def test_normalise_subnets_rejects(value):
    with pytest.raises(ValueError, match="subnet"):
        normalise_subnets([value])


@pytest.mark.parametrize("value", [[], "192.0.2.0/24", ["10.0.0.0/8"] * 101])
def test_normalise_subnets_rejects_bad_lists(value):
    with pytest.raises(ValueError, match="subnet|list"):
        normalise_subnets(value)


addresses = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6))
networks = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).flatmap(
    lambda a: st.integers(0, a.max_prefixlen).map(
        lambda p: ipaddress.ip_network(f"{a}/{p}", strict=False)
    )
)


@given(addresses, st.lists(networks, min_size=1, max_size=4))
def test_membership_agrees_with_ipaddress(address, nets):
    mapped = address.ipv4_mapped if address.version == 6 else None
    effective = mapped or address
    expected = any(effective in n for n in nets if n.version == effective.version)
    assert address_allowed(str(address), [str(n) for n in nets]) is expected
