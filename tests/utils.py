def authenticated(client, secret, scheme="Token"):
    """Make ``client`` send ``secret`` in the Authorization header."""
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {secret}")
    return client
