def test_ping_needs_a_token(api_client, db):
    response = api_client.get("/api/v1/ping/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_ping_answers_with_the_token_kind(alice, client_for):
    response = client_for(alice, mfa=False).get("/api/v1/ping/")
    assert response.status_code == 200
    assert response.json() == {"email": "alice@example.com", "token_kind": "login"}
