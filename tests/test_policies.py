"""The policy engine: precedence, scope declarations, and SQL agreeing with the pure matcher."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from django_stepup.policies import (
    READ,
    WRITE,
    Dimension,
    PolicyScope,
    combination_digest,
    deciding_policy,
    get_scope,
    get_scopes,
    is_allowed,
    policy_q,
)
from tests.factories import UserFactory, ZoneFactory
from tests.testapp import policies as test_policies
from tests.testapp.models import Record

NAMES = ["domain", "subname", "type"]


def rule(domain=None, subname=None, type=None, write=False, read=True):
    return SimpleNamespace(
        values={"domain": domain, "subname": subname, "type": type},
        perm_write=write,
        perm_read=read,
    )


def obj(domain, subname, type):
    return {"domain": domain, "subname": subname, "type": type}


# -- precedence (deSEC's table) -------------------------------------------------------------

DEFAULT = rule()
D = rule(domain=1, write=True)
DS = rule(domain=1, subname="www")
DT = rule(domain=1, type="A", write=True)
S = rule(subname="www", write=True)
T = rule(type="A")
ST = rule(subname="www", type="A", write=True)
DST = rule(domain=1, subname="www", type="A")


@pytest.mark.parametrize(
    ("policies", "target", "expected"),
    [
        ([DEFAULT], obj(1, "www", "A"), DEFAULT),
        ([DEFAULT, D], obj(1, "www", "A"), D),
        ([DEFAULT, D], obj(2, "www", "A"), DEFAULT),
        ([DEFAULT, D, DS], obj(1, "www", "A"), DS),
        ([DEFAULT, D, DS], obj(1, "mail", "A"), D),
        ([DEFAULT, DS, DT], obj(1, "www", "A"), DS),  # subname before type
        ([DEFAULT, DT, S], obj(1, "www", "A"), DT),  # domain before subname
        ([DEFAULT, S, T], obj(2, "www", "A"), S),
        ([DEFAULT, ST, D], obj(1, "www", "A"), D),
        ([DEFAULT, D, DS, DT, DST], obj(1, "www", "A"), DST),
        ([DEFAULT, D, DS, DT, DST], obj(1, "www", "AAAA"), DS),
        ([DEFAULT, D, DS, DT, DST], obj(1, "mail", "A"), DT),
        ([D], obj(2, "www", "A"), None),
    ],
)
def test_the_most_specific_policy_decides_from_the_left(policies, target, expected):
    assert deciding_policy(policies, target, NAMES) is expected


def test_no_policies_is_unrestricted_and_no_match_is_denied():
    assert is_allowed([], obj(1, "www", "A"), NAMES, WRITE)
    assert not is_allowed([D], obj(2, "www", "A"), NAMES, WRITE)
    assert is_allowed([DEFAULT, D], obj(1, "", "A"), NAMES, WRITE)
    assert not is_allowed([DEFAULT, D], obj(2, "", "A"), NAMES, WRITE)
    assert is_allowed([DEFAULT], obj(2, "", "A"), NAMES, READ)
    assert not is_allowed([rule(read=False)], obj(2, "", "A"), NAMES, READ)


def test_the_apex_is_not_any_subname():
    apex = rule(subname="", write=True)
    assert is_allowed([DEFAULT, apex], obj(1, "", "A"), NAMES, WRITE)
    assert not is_allowed([DEFAULT, apex], obj(1, "www", "A"), NAMES, WRITE)


def test_the_combination_digest_ignores_key_order_and_tells_values_apart():
    assert combination_digest({"a": 1, "b": None}) == combination_digest({"b": None, "a": 1})
    assert combination_digest({"a": 1, "b": None}) != combination_digest({"a": "1", "b": None})
    assert combination_digest({"a": None}) != combination_digest({"a": ""})


# -- declarations and loading -----------------------------------------------------------------


def test_scopes_load_from_settings_by_dotted_path_or_instance():
    assert get_scope("rrsets") is test_policies.rrsets
    custom = PolicyScope("things", [Dimension("kind")])
    with override_settings(STEPUP={"POLICY_SCOPES": {"things": custom}}):
        assert get_scopes() == {"things": custom}
        with pytest.raises(LookupError):
            get_scope("rrsets")
    assert get_scope("rrsets") is test_policies.rrsets


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ("tests.testapp.policies.NOPE", "NOPE"),
        ("tests.testapp.models.Zone", "PolicyScope"),
        ("tests.testapp.policies.private_records", "declares a scope named"),
    ],
)
def test_bad_declarations_are_configuration_errors(declaration, message):
    with override_settings(STEPUP={"POLICY_SCOPES": {"rrsets": declaration}}):
        with pytest.raises((ImproperlyConfigured, ImportError), match=message):
            get_scopes()


def test_scope_declarations_are_checked():
    with pytest.raises(ImproperlyConfigured, match="at least one"):
        PolicyScope("empty", [])
    with pytest.raises(ImproperlyConfigured, match="repeats"):
        PolicyScope("twice", [Dimension("a"), Dimension("a")])
    with pytest.raises(ImproperlyConfigured, match="lookup"):
        Dimension("computed", attribute=lambda obj: obj.pk)


def test_a_dimension_reads_objects_by_path_or_callable(db):
    zone = ZoneFactory(name="a.example")
    record = Record(zone=zone, subname="www", type="A")
    assert test_policies.rrsets.values_of(record) == {
        "domain": zone.pk,
        "subname": "www",
        "type": "A",
    }
    by_path = Dimension("zone_name", attribute="zone.name")
    by_callable = Dimension("label", attribute=lambda r: f"{r.subname}/{r.type}", lookup="x")
    assert (by_path.value_of(record), by_path.lookup) == ("a.example", "zone__name")
    assert by_callable.value_of(record) == "www/A"


def test_a_model_dimension_shows_names_and_stores_keys(db):
    alice, bob = UserFactory(), UserFactory()
    zone = ZoneFactory(owner=alice, name="a.example")
    ZoneFactory(owner=bob, name="b.example")
    domain = test_policies.rrsets.dimensions[0]
    assert domain.to_stored("a.example", alice) == zone.pk
    assert domain.to_representation(zone.pk) == "a.example"
    assert domain.to_stored(None, alice) is None
    from rest_framework.exceptions import ValidationError

    with pytest.raises(ValidationError):
        domain.to_stored("b.example", alice)


# -- the SQL filter agrees with the pure matcher -------------------------------------------

ZONES = ("a.example", "b.example")
SUBNAMES = ("", "www", "mail", "other")
TYPES = ("A", "AAAA", "MX")

policy_values = st.fixed_dictionaries(
    {
        "domain": st.sampled_from((None, *ZONES)),
        "subname": st.sampled_from((None, *SUBNAMES[:3])),
        "type": st.sampled_from((None, *TYPES[:2])),
    }
)
policy_sets = st.dictionaries(
    keys=policy_values.map(lambda values: tuple(values[name] for name in NAMES)),
    values=st.tuples(st.booleans(), st.booleans()),
    max_size=8,
)


@pytest.fixture
def grid(db):
    """Every record over the alphabets (including values no policy names)."""
    user = UserFactory()
    zones = {name: ZoneFactory(owner=user, name=name) for name in ZONES}
    Record.objects.bulk_create(
        Record(zone=zone, subname=subname, type=rtype)
        for zone in zones.values()
        for subname in SUBNAMES
        for rtype in TYPES
    )
    return zones, list(Record.objects.all())


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(policy_set=policy_sets, action=st.sampled_from((READ, WRITE)))
# A granting default beside a granting specific policy: Django drops Q() from Q() | Q(x).
@example(
    policy_set={(None, None, None): (True, True), (None, None, "A"): (True, True)}, action=READ
)
@example(
    policy_set={(None, None, None): (True, True), ("a.example", "www", None): (False, False)},
    action=WRITE,
)
def test_sql_filter_and_pure_matcher_agree(grid, policy_set, action):
    zones, records = grid
    scope = test_policies.rrsets
    policies = []
    for key, (write, read) in policy_set.items():
        values = dict(zip(NAMES, key, strict=True))
        if values["domain"] is not None:
            values["domain"] = zones[values["domain"]].pk
        policies.append(SimpleNamespace(values=values, perm_write=write, perm_read=read))
    expected = {
        record.pk
        for record in records
        if is_allowed(policies, scope.values_of(record), scope.dimension_names, action)
    }
    selected = set(
        Record.objects.filter(policy_q(policies, scope.dimensions, action)).values_list(
            "pk", flat=True
        )
    )
    assert selected == expected
