"""The ``rrsets`` policy scope: token policies over (domain, subname, type), as deSEC has them."""

from django_stepup.policies import Dimension, ModelDimension, PolicyScope

rrsets = PolicyScope(
    "rrsets",
    dimensions=[
        ModelDimension("domain", "dnsapi.Domain"),
        Dimension("subname"),
        Dimension("type"),
    ],
)
