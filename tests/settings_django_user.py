"""The test settings with Django's own ``User`` (login by username) and Django's mail defaults.

``make test`` runs the auth flows under these too, so that both user-model shapes are
tested on every run. The test app's User is swapped out, as Django's is under
``tests.settings``.
"""

from tests.settings import *  # noqa: F403

AUTH_USER_MODEL = "auth.User"
# No EMAIL_BACKEND and no MAILERS: Django's default (SMTP) configuration, which the test
# runner replaces with its in-memory outbox as it does in any project.
globals().pop("MAILERS", None)
