"""The networks a token is used from: recorded on first use, news of a new one, 0 writes after."""

import http.client
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from django_stepup import signals
from django_stepup.models import AuditEvent, Token
from django_stepup.networks import MAX_NETWORKS, network_of, with_network
from tests.factories import TokenFactory
from tests.utils import KNOWN_NETWORKS, authenticated, in_parallel

URL = "/whoami/"


@pytest.fixture
def news():
    """The ``token_used_from_new_network`` signals sent during the test."""
    sent = []

    def receiver(sender, **kwargs):
        sent.append(kwargs)

    signals.token_used_from_new_network.connect(receiver)
    yield sent
    signals.token_used_from_new_network.disconnect(receiver)


def get(api_client, token, address):
    return authenticated(api_client, token.secret).get(URL, REMOTE_ADDR=address)


def reload(token):
    return Token.objects.get(pk=token.pk)


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("192.0.2.77", "192.0.2.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("fe80::1%eth0", "fe80::/48"),
        ("not an address", None),
        (None, None),
    ],
)
def test_network_of(address, network):
    assert network_of(address) == network


def test_with_network_keeps_the_last_ones():
    networks = [f"10.0.{i}.0/24" for i in range(MAX_NETWORKS)]
    assert with_network(networks, "10.1.0.0/24") == [*networks[1:], "10.1.0.0/24"]
    assert with_network([], "10.1.0.0/24") == ["10.1.0.0/24"]


@pytest.mark.django_db
class TestOverTheTestClient:
    def test_the_first_network_is_recorded_silently(
        self, api_client, news, django_assert_num_queries
    ):
        token = TokenFactory(last_used=timezone.now())
        with django_assert_num_queries(2) as captured:  # the SELECT, the UPDATE
            assert get(api_client, token, "192.0.2.10").status_code == 200
        assert captured.captured_queries[1]["sql"].startswith("UPDATE")
        assert reload(token).networks == ["192.0.2.0/24"]
        assert news == [] and mail.outbox == [] and not AuditEvent.objects.exists()

    def test_a_known_network_writes_nothing(self, api_client, news, django_assert_num_queries):
        token = TokenFactory(last_used=timezone.now(), networks=["192.0.2.0/24"])
        with django_assert_num_queries(1) as captured:
            assert get(api_client, token, "192.0.2.200").status_code == 200
        assert captured.captured_queries[0]["sql"].startswith("SELECT")
        assert news == []

    def test_a_stale_last_used_from_a_known_network_is_one_update(
        self, api_client, django_assert_num_queries
    ):
        old = timezone.now() - timedelta(hours=1)
        token = TokenFactory(last_used=old, networks=KNOWN_NETWORKS)
        with django_assert_num_queries(2):
            get(api_client, token, "127.0.0.1")
        assert reload(token).last_used > old
        assert reload(token).networks == KNOWN_NETWORKS

    def test_a_new_network_records_it_emails_and_is_an_event(
        self, api_client, news, django_assert_num_queries, django_capture_on_commit_callbacks
    ):
        token = TokenFactory(name="deploy bot", last_used=timezone.now(), networks=KNOWN_NETWORKS)
        # The SELECT, the UPDATE, the audit row; the mail after commit.
        with django_capture_on_commit_callbacks(execute=True), django_assert_num_queries(3):
            assert get(api_client, token, "203.0.113.5").status_code == 200
        assert reload(token).networks == [*KNOWN_NETWORKS, "203.0.113.0/24"]
        [sent] = news
        assert sent["token"].pk == token.pk and sent["user"] == token.user
        assert sent["network"] == "203.0.113.0/24" and sent["ip_address"] == "203.0.113.5"
        [row] = AuditEvent.objects.all()
        assert row.event == "token_used_from_new_network"
        assert row.user == token.user and row.token_id == token.pk
        assert row.ip_address == "203.0.113.5"
        assert row.details == {
            "token_name": "deploy bot",
            "network": "203.0.113.0/24",
            "address": "203.0.113.5",
        }
        [message] = mail.outbox
        assert message.to == [token.user.email]
        assert "deploy bot" in message.body and "203.0.113.5" in message.body
        assert f"DELETE auth/tokens/{token.pk}/" in message.body
        assert token.secret not in message.body
        # Again from there: nothing new, nothing written.
        with django_assert_num_queries(1):
            get(api_client, token, "203.0.113.99")
        assert len(news) == 1 and len(mail.outbox) == 1

    def test_the_list_is_bounded(self, api_client, news):
        networks = [f"10.0.{i}.0/24" for i in range(MAX_NETWORKS)]
        token = TokenFactory(last_used=timezone.now(), networks=networks)
        get(api_client, token, "10.9.9.9")
        assert reload(token).networks == [*networks[1:], "10.9.9.0/24"]
        get(api_client, token, "10.0.0.1")  # dropped as the oldest: new again
        assert len(news) == 2

    def test_ipv6_counts_by_48(self, api_client, news):
        token = TokenFactory(last_used=timezone.now(), networks=["2001:db8:1::/48"])
        get(api_client, token, "2001:db8:1:ffff::1")
        assert news == []
        get(api_client, token, "2001:db8:2::1")
        assert [sent["network"] for sent in news] == ["2001:db8:2::/48"]

    def test_a_rejected_request_records_nothing(self, api_client, news):
        token = TokenFactory(
            last_used=timezone.now(), networks=KNOWN_NETWORKS, allowed_subnets=["127.0.0.0/8"]
        )
        assert get(api_client, token, "203.0.113.5").status_code == 401
        assert reload(token).networks == KNOWN_NETWORKS and news == []

    def test_the_event_is_listed_for_the_owner(self, api_client, news):
        token = TokenFactory(last_used=timezone.now(), networks=KNOWN_NETWORKS)
        get(api_client, token, "203.0.113.5")
        owner = TokenFactory(user=token.user, login=True, networks=["203.0.113.0/24"])
        response = authenticated(api_client, owner.secret).get(
            "/auth/events/", REMOTE_ADDR="203.0.113.5"
        )
        [item] = response.json()
        assert item["event"] == "token_used_from_new_network"
        assert item["token_id"] == str(token.pk)


def request_from(live_server, source, secret):
    """GET ``URL`` over real HTTP from the loopback address ``source``; (status, body)."""
    host, port = live_server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", URL, headers={"Authorization": f"Token {secret}"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def test_over_http_from_loopback_source_addresses(live_server, news):
    token = TokenFactory(name="laptop")
    assert request_from(live_server, "127.0.0.2", token.secret)[0] == 200
    assert reload(token).networks == ["127.0.0.0/24"]
    assert request_from(live_server, "127.0.0.2", token.secret)[0] == 200
    assert news == []
    assert request_from(live_server, "127.0.1.5", token.secret)[0] == 200
    assert reload(token).networks == ["127.0.0.0/24", "127.0.1.0/24"]
    assert [(sent["network"], sent["ip_address"]) for sent in news] == [
        ("127.0.1.0/24", "127.0.1.5")
    ]
    [row] = AuditEvent.objects.filter(event="token_used_from_new_network")
    assert row.ip_address == "127.0.1.5"
    [message] = mail.outbox
    assert "laptop" in message.body and "127.0.1.5" in message.body


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs parallel connections")
@pytest.mark.django_db(transaction=True)
def test_parallel_first_requests_from_a_new_network_send_one_event():
    from rest_framework.test import APIClient

    token = TokenFactory(last_used=timezone.now(), networks=KNOWN_NETWORKS)

    def call():
        return get(APIClient(), token, "198.51.100.7").status_code

    assert in_parallel(*[call] * 6) == [200] * 6
    assert reload(token).networks == [*KNOWN_NETWORKS, "198.51.100.0/24"]
    assert AuditEvent.objects.filter(event="token_used_from_new_network").count() == 1
