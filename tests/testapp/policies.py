"""The rrsets policy scope over Zone/Record, as the example project declares it over Domain/RRset."""

from django_stepup.policies import Dimension, ModelDimension, PolicyScope

rrsets = PolicyScope(
    "rrsets",
    dimensions=[
        ModelDimension("domain", "testapp.Zone", attribute="zone_id"),
        Dimension("subname"),
        Dimension("type", normalise=str.upper),
    ],
)

#: A scope whose policies also decide reads, for the filter backend's read mode.
private_records = PolicyScope(
    "private_records",
    dimensions=[Dimension("subname"), Dimension("type", normalise=str.upper)],
    restrict_reads=True,
)
