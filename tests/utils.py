import threading

from django.contrib.auth import get_user_model
from django.db import connections

#: API.md's token object, with the test settings' flags (the secret only when created).
TOKEN_FIELDS = {
    "id",
    "created",
    "last_used",
    "owner",
    "name",
    "mfa",
    "mfa_at",
    "mfa_method",
    "max_age",
    "max_unused_period",
    "perm_manage_tokens",
    "perm_create_domain",
    "perm_delete_domain",
    "allowed_subnets",
    "auto_policy",
    "is_valid",
}

#: The network of the test client's address (127.0.0.1): a token used from it before
#: (``networks=KNOWN_NETWORKS``) is in steady state, and authenticating it writes nothing.
KNOWN_NETWORKS = ["127.0.0.0/24"]


def login_field():
    """The login body's identifier field: the user model's USERNAME_FIELD."""
    return get_user_model().USERNAME_FIELD


def login_name(user):
    """What ``user`` logs in with: their username, or their email for the test app's User."""
    return getattr(user, login_field())


def login_body(user, password=None, **extra):
    """The body of ``POST auth/login/`` for ``user``: its USERNAME_FIELD, the password, extras."""
    from tests.factories import PASSWORD

    return {login_field(): login_name(user), "password": password or PASSWORD, **extra}


def authenticated(client, secret, scheme="Token"):
    """Make ``client`` send ``secret`` in the Authorization header."""
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {secret}")
    return client


def in_parallel(*calls):
    """Run ``calls`` in threads released together by a barrier; return their results.

    Each thread closes its own database connections when done.
    """
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
