"""factory-boy factories for every model the tests create."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from django_stepup import tokens
from django_stepup.models import MFAState, Token, TokenPolicy
from tests.testapp.models import Record, Zone

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    """A user of ``AUTH_USER_MODEL``: the test app's (login by email) or Django's own."""

    class Meta:
        model = get_user_model()
        django_get_or_create = (get_user_model().USERNAME_FIELD,)

    if get_user_model().USERNAME_FIELD != "email":
        username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.django.Password(PASSWORD)


class TokenFactory(factory.django.DjangoModelFactory):
    """An API token by default; traits ``login`` and ``promoted`` make login tokens.

    The secret is kept on ``token.secret`` for the test to authenticate with.
    """

    class Meta:
        model = Token

    class Params:
        login = factory.Trait(mfa=False)
        promoted = factory.Trait(mfa=True, mfa_at=factory.LazyFunction(timezone.now))

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"token {n}")
    secret = factory.LazyFunction(tokens.generate_secret)
    digest = factory.LazyAttribute(lambda o: tokens.digest(o.secret))

    @classmethod
    def _create(cls, model_class, *args, secret, **kwargs):
        token = super()._create(model_class, *args, **kwargs)
        token.secret = secret
        return token


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    """An active TOTP factor, which enables MFA for its user; trait ``pending`` for an inactive one."""

    class Meta:
        model = TOTPDevice

    class Params:
        pending = factory.Trait(confirmed=False)

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"authenticator {n}")
    confirmed = True


class MFAStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MFAState
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)
    enabled = True


class ZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Zone

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"zone{n}.example")


class RecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Record

    zone = factory.SubFactory(ZoneFactory)
    subname = "www"
    type = "A"


class TokenPolicyFactory(factory.django.DjangoModelFactory):
    """A policy of the ``rrsets`` scope; ``values`` defaults to the default policy."""

    class Meta:
        model = TokenPolicy

    token = factory.SubFactory(TokenFactory)
    scope = "rrsets"
    values = factory.LazyFunction(lambda: {"domain": None, "subname": None, "type": None})
    perm_write = False
