"""Client address checks against a token's ``allowed_subnets``.

Addresses are normalised before matching: an IPv4-mapped IPv6 address is its
IPv4 address (so it matches IPv4 subnets and never an IPv6-only list), and an
IPv6 zone id is dropped. Anything that does not parse fails closed.

Internal: may change without notice.
"""

import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TypeAlias

Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_SUBNETS = ["0.0.0.0/0", "::/0"]
MAX_SUBNETS = 100
_CIDR_CHARACTERS = re.compile(r"[0-9A-Fa-f:./]{2,49}")


def normalise_address(value: object) -> Address | None:
    """Return the ``ip_address`` for a ``REMOTE_ADDR`` value, or None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        address = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_subnet(value: object) -> Network:
    """Parse one CIDR string strictly; raise ``ValueError`` with a message for a user."""
    if not isinstance(value, str) or not _CIDR_CHARACTERS.fullmatch(value):
        raise ValueError(f"{value!r} is not a CIDR subnet such as 192.0.2.0/24 or 2001:db8::/32.")
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a valid subnet: {error}.") from None
    if network.version == 6 and network.network_address.ipv4_mapped is not None:
        raise ValueError(f"{value!r} is an IPv4-mapped subnet; give it in IPv4 form.")
    return network


def normalise_subnets(values: object) -> list[str]:
    """Validate a list of CIDR strings and return them in canonical form."""
    if not isinstance(values, list | tuple):
        raise ValueError("Expected a list of CIDR subnets.")
    if not values:
        raise ValueError("Give at least one subnet; use 0.0.0.0/0 and ::/0 to allow any address.")
    if len(values) > MAX_SUBNETS:
        raise ValueError(f"At most {MAX_SUBNETS} subnets are allowed.")
    return [str(parse_subnet(value)) for value in values]


@lru_cache(maxsize=1024)
def _networks(subnets: tuple[str, ...]) -> tuple[Network, ...]:
    networks: list[Network] = []
    for value in subnets:
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            continue
    return tuple(networks)


def subnets_outside(subnets: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """The members of ``subnets`` that lie inside none of the ``allowed`` subnets, in order."""
    networks = _networks(tuple(allowed))
    outside = []
    for value in subnets:
        network = ipaddress.ip_network(value, strict=False)
        if not any(_subnet_of(network, other) for other in networks):
            outside.append(value)
    return outside


def _subnet_of(network: Network, other: Network) -> bool:
    """Whether ``network`` lies inside ``other``; False across IP versions."""
    if isinstance(network, ipaddress.IPv4Network) and isinstance(other, ipaddress.IPv4Network):
        return network.subnet_of(other)
    if isinstance(network, ipaddress.IPv6Network) and isinstance(other, ipaddress.IPv6Network):
        return network.subnet_of(other)
    return False


def address_allowed(remote_addr: object, subnets: Iterable[str] | None) -> bool:
    """Whether ``remote_addr`` lies in one of ``subnets``; False for garbage or no subnets."""
    address = normalise_address(remote_addr)
    if address is None or not subnets:
        return False
    return any(
        address in network
        for network in _networks(tuple(subnets))
        if network.version == address.version
    )
