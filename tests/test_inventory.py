"""The token inventory: manage.py stepup_inventory and the admin's inventory page."""

import csv
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import TokenFactory, TokenPolicyFactory, UserFactory

pytestmark = pytest.mark.django_db

INVENTORY = "/admin/django_stepup/token/inventory/"
CHANGELIST = "/admin/django_stepup/token/"


def run(*args):
    out = StringIO()
    call_command("stepup_inventory", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def tokens():
    """One token per risk, and one without any."""
    alice, bob = UserFactory(), UserFactory()
    now = timezone.now()
    safe = TokenFactory(
        user=alice, name="safe", max_age=timedelta(days=30), last_used=now, perms=["create_domain"]
    )
    TokenPolicyFactory(token=safe)
    forever = TokenFactory(user=alice, name="forever", last_used=now)
    TokenPolicyFactory(token=forever)
    unused = TokenFactory(
        user=bob, name="unused", max_age=timedelta(days=900), last_used=now - timedelta(days=40)
    )
    TokenPolicyFactory(token=unused)
    roaming = TokenFactory(
        user=bob,
        name="roaming",
        max_age=timedelta(days=30),
        last_used=now,
        networks=[f"10.0.{i}.0/24" for i in range(4)],
    )
    TokenPolicyFactory(token=roaming)
    login = TokenFactory(
        user=bob, name="login", login=True, max_age=timedelta(days=7), last_used=now
    )
    return {"safe": safe, "forever": forever, "unused": unused, "roaming": roaming, "login": login}


def by_name(rows):
    return {row["name"]: row for row in rows}


def test_json_lists_every_token_with_its_risks(tokens):
    rows = by_name(json.loads(run("--format", "json", "--stale-days", "30")))
    assert set(rows) == set(tokens)
    risks = {name: row["risks"] for name, row in rows.items()}
    assert risks["safe"] == []
    assert "never_expires" in risks["forever"]
    assert risks["unused"] == ["unused"]
    assert risks["roaming"] == ["many_networks"]
    assert risks["login"] == []
    safe = rows["safe"]
    assert safe["owner"] == tokens["safe"].user.get_username()
    assert safe["kind"] == "api" and safe["flags"] == ["create_domain"]
    assert safe["policies"] == "rrsets: 1"
    assert safe["subnets"] == ["0.0.0.0/0", "::/0"]
    assert rows["login"]["flags"] == "all"
    assert rows["roaming"]["networks"] == [f"10.0.{i}.0/24" for i in range(4)]
    assert safe["expires_at"] is not None and rows["forever"]["expires_at"] is None
    assert not any(token.secret in json.dumps(rows) for token in tokens.values())


def test_an_api_token_without_policies_is_unrestricted(db):
    token = TokenFactory(max_age=timedelta(days=1), last_used=timezone.now())
    [row] = json.loads(run("--format", "json"))
    assert row["id"] == str(token.pk)
    assert row["policies"] == "unrestricted"
    assert row["risks"] == ["unrestricted_api"]


def test_stale_days_moves_the_unused_threshold(tokens):
    assert (
        by_name(json.loads(run("--format", "json", "--stale-days", "50")))["unused"]["risks"] == []
    )


def test_csv_has_the_columns_and_a_row_per_token(tokens):
    reader = csv.DictReader(StringIO(run("--format", "csv")))
    rows = list(reader)
    assert reader.fieldnames[:4] == ["owner", "id", "name", "kind"]
    assert {
        "policies",
        "subnets",
        "networks",
        "created",
        "last_used",
        "expires_at",
        "risks",
    } <= set(reader.fieldnames)
    assert {row["name"] for row in rows} == set(tokens)


def test_the_table_ends_with_the_risk_counts(tokens):
    output = run("--stale-days", "30")
    assert output.splitlines()[0].split()[:4] == ["owner", "id", "name", "kind"]
    assert (
        "5 token(s). never_expires: 1, unused: 1, unrestricted_api: 0, many_networks: 1" in output
    )


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_admin_page_counts_risks_and_users_and_links_to_filtered_lists(admin_client, tokens):
    tokens["unused"].last_used = timezone.now() - timedelta(days=100)
    tokens["unused"].save()
    response = admin_client.get(INVENTORY)
    assert response.status_code == 200
    page = response.content.decode()
    for risk in ("never_expires", "unused", "unrestricted_api", "many_networks"):
        assert f'href="{CHANGELIST}?risk={risk}"' in page
    bob = tokens["login"].user
    assert f'href="{CHANGELIST}?user__id__exact={bob.pk}"' in page
    assert dict(
        (username, (api, login, total))
        for username, _pk, api, login, total in response.context["users"]
    )[bob.get_username()] == (2, 1, 3)
    counts = {risk: count for risk, _label, count in response.context["risks"]}
    assert counts == {"never_expires": 1, "unused": 1, "unrestricted_api": 0, "many_networks": 1}


@pytest.mark.parametrize(
    ("risk", "names"),
    [
        ("never_expires", {"forever"}),
        ("many_networks", {"roaming"}),
        ("unrestricted_api", set()),
    ],
)
def test_the_changelist_filters_by_risk(admin_client, tokens, risk, names):
    response = admin_client.get(CHANGELIST, {"risk": risk})
    assert {token.name for token in response.context["cl"].result_list} == names


def test_the_unused_filter_takes_90_days(admin_client, tokens):
    tokens["unused"].last_used = timezone.now() - timedelta(days=100)
    tokens["unused"].save()
    response = admin_client.get(CHANGELIST, {"risk": "unused"})
    assert [token.name for token in response.context["cl"].result_list] == ["unused"]


def test_the_page_needs_staff(client, tokens):
    client.force_login(UserFactory())
    assert client.get(INVENTORY).status_code == 302
