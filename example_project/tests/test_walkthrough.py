"""The README's walkthrough in one test: a restricted API token writes only where allowed."""

from dnsapi.models import RRset


def test_restricted_token_writes_only_where_its_policy_allows(alice, client_for):
    login = client_for(alice, mfa=False)
    assert login.post("/api/v1/domains/", {"name": "a.example"}, format="json").status_code == 201
    for subname, type_ in (("www", "A"), ("", "MX")):
        records = ["192.0.2.1"] if type_ == "A" else ["10 mx.a.example."]
        response = login.post(
            "/api/v1/domains/a.example/rrsets/",
            {"subname": subname, "type": type_, "ttl": 3600, "records": records},
            format="json",
        )
        assert response.status_code == 201
    response = login.post("/api/v1/auth/tokens/", {"name": "ci"}, format="json")
    assert response.status_code == 201
    token_id, secret = response.json()["id"], response.json()["token"]
    policies = f"/api/v1/auth/tokens/{token_id}/policies/rrsets/"
    for policy in (
        {"domain": None, "subname": None, "type": None, "perm_write": False},
        {"domain": "a.example", "subname": "www", "type": "A", "perm_write": True},
    ):
        assert login.post(policies, policy, format="json").status_code == 201

    login.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    allowed = login.patch(
        "/api/v1/domains/a.example/rrsets/www.../A/", {"ttl": 7200}, format="json"
    )
    assert allowed.status_code == 200
    refused = login.patch("/api/v1/domains/a.example/rrsets/@/MX/", {"ttl": 7200}, format="json")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Insufficient token permissions."}
    assert RRset.objects.get(type="MX").ttl == 3600
    assert RRset.objects.get(type="A").ttl == 7200
