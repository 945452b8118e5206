"""deSEC's cursor pagination of RRset lists above the page size (500), with Link headers."""

import re

import pytest

from dnsapi.models import RRset

from .conftest import API

RRSETS = f"{API}/domains/alice.example/rrsets/"
LINK = re.compile(r'<([^>]*)>; rel="(\w+)"')


@pytest.fixture
def alice_client(alice, client_for):
    return client_for(alice, mfa=False)


@pytest.fixture
def make_rrsets(alice, make_domain):
    domain = make_domain(alice, "alice.example")

    def make_rrsets(count, record_type="A"):
        RRset.objects.bulk_create(
            RRset(
                domain=domain, subname=f"h{i:04}", type=record_type, ttl=3600, records=["192.0.2.1"]
            )
            for i in range(count)
        )

    return make_rrsets


def links(response):
    return {rel: url for url, rel in LINK.findall(response.get("Link", ""))}


def test_up_to_the_page_size_is_one_plain_list(alice_client, make_rrsets):
    make_rrsets(500)

    response = alice_client.get(RRSETS)

    assert response.status_code == 200
    assert len(response.json()) == 500
    assert "Link" not in response


def test_above_it_the_cursor_is_required(alice_client, make_rrsets):
    make_rrsets(501)

    response = alice_client.get(RRSETS)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Pagination required. You can query up to 500 items at a time (501 total). "
        "Please use the `first` page link (see Link header)."
    }
    assert links(response) == {"first": f"http://testserver{RRSETS}?cursor="}


def test_pages_follow_the_link_headers_to_every_rrset_once(alice_client, make_rrsets, settings):
    settings.DNSAPI_PAGE_SIZE = 5
    make_rrsets(12)

    pages = []
    url = f"{RRSETS}?cursor="
    while url:
        response = alice_client.get(url)
        assert response.status_code == 200
        pages.append((response.json(), links(response)))
        url = links(response).get("next")

    assert [len(page) for page, _ in pages] == [5, 5, 2]
    assert [set(page_links) for _, page_links in pages] == [
        {"first", "next"},
        {"first", "prev", "next"},
        {"first", "prev"},
    ]
    subnames = [rrset["subname"] for page, _ in pages for rrset in page]
    assert subnames == [f"h{i:04}" for i in range(12)]
    previous = alice_client.get(pages[2][1]["prev"]).json()
    assert previous == pages[1][0]


def test_filters_combine_with_pagination(alice_client, make_rrsets, settings):
    settings.DNSAPI_PAGE_SIZE = 5
    make_rrsets(8, "A")
    make_rrsets(3, "AAAA")

    unpaginated = alice_client.get(RRSETS, {"type": "AAAA"})
    first = alice_client.get(RRSETS, {"type": "A", "cursor": ""})

    assert unpaginated.status_code == 200
    assert len(unpaginated.json()) == 3
    assert len(first.json()) == 5
    assert "type=A" in links(first)["next"]


def test_a_large_zone_is_read_with_a_bounded_query(
    alice_client, make_rrsets, django_assert_num_queries
):
    make_rrsets(2000)
    alice_client.get(RRSETS, {"cursor": ""})

    with django_assert_num_queries(3) as captured:  # token, domain, one page of RRsets
        response = alice_client.get(RRSETS, {"cursor": ""})

    assert len(response.json()) == 500
    assert "LIMIT 501" in captured.captured_queries[-1]["sql"]
