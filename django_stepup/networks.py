"""The networks a token was used from, and the news of its use from a new one.

A client address counts by its network: its IPv4 /24 or its IPv6 /48. Each token keeps
the last :data:`MAX_NETWORKS` networks it was used from in ``Token.networks`` (oldest
first). The first network a token is ever used from is recorded silently; a later
request from a network not in the list records it (dropping the oldest beyond the
bound) and sends :data:`~django_stepup.signals.token_used_from_new_network`.

Requests from known networks read the list from the authentication row and write
nothing; a new network costs one conditional UPDATE (see
:meth:`django_stepup.authentication.StepUpTokenAuthentication.touch`).

Internal: may change without notice.
"""

import ipaddress

from .subnets import normalise_address

MAX_NETWORKS = 16
IPV4_PREFIX = 24
IPV6_PREFIX = 48


def network_of(address):
    """The network (CIDR string) of a ``REMOTE_ADDR`` value, or None if it is no address."""
    address = normalise_address(address)
    if address is None:
        return None
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def with_network(networks, network):
    """``networks`` with ``network`` appended, keeping the last :data:`MAX_NETWORKS`."""
    return [*list(networks or [])[-(MAX_NETWORKS - 1) :], network]
