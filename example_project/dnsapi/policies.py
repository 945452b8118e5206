"""The ``rrsets`` policy scope: token policies over (domain, subname, type), as deSEC has them.

Each dimension is validated like the field it names, so a policy can't name what no
RRset could be (``WWW``, type ``a``): such a policy would never match and only mislead;
and no query runs with a value the database can't hold (a NUL byte).
"""

from rest_framework import serializers

from django_stepup.policies import Dimension, ModelDimension, PolicyScope

from .validators import validate_domain_name, validate_subname, validate_type


def policy_field(validator, **kwargs):
    return serializers.CharField(
        allow_null=True,
        required=False,
        default=None,
        trim_whitespace=False,
        validators=[validator],
        **kwargs,
    )


rrsets = PolicyScope(
    "rrsets",
    dimensions=[
        ModelDimension(
            "domain", "dnsapi.Domain", field=policy_field(validate_domain_name, max_length=253)
        ),
        Dimension(
            "subname", field=policy_field(validate_subname, allow_blank=True, max_length=178)
        ),
        Dimension("type", field=policy_field(validate_type, max_length=10)),
    ],
)
