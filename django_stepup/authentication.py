"""DRF authentication with step-up tokens.

DRF imports this module by dotted path while settings load, so models are
imported inside the methods that use them (see :meth:`StepUpTokenAuthentication.get_model`).

Public: :class:`StepUpTokenAuthentication` and :data:`INVALID_TOKEN`, the message of every
401 it answers. The helpers that read ``STEPUP["AUTHENTICATION_CLASSES"]`` for the app's
own views and challenges are internal.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from . import tokens
from .conf import stepup_settings
from .subnets import address_allowed, normalise_address

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from rest_framework.request import Request

    from .models import Token

__all__ = ["INVALID_TOKEN", "StepUpTokenAuthentication"]

INVALID_TOKEN = _("Invalid token.")


class StepUpTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <secret>`` (or ``Bearer``); every failure is the same 401.

    Extension points, as in DRF's ``TokenAuthentication``:

    ``keyword``
        The scheme named in ``WWW-Authenticate`` challenges.
    ``keywords``
        The schemes accepted in the ``Authorization`` header, case-insensitively. A
        subclass that sets ``keyword`` alone accepts that keyword only.
    ``model`` / :meth:`get_model`
        The token model, :class:`django_stepup.models.Token` by default.
    :meth:`authenticate_credentials`
        Turns a parsed secret into ``(user, token)``.

    The app's own views use the classes of ``STEPUP["AUTHENTICATION_CLASSES"]``, so a
    subclass configured there is honoured everywhere.
    """

    keyword: str = "Token"
    keywords: tuple[str, ...] = ("Token", "Bearer")
    model: type[Token] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "keyword" in cls.__dict__ and "keywords" not in cls.__dict__:
            cls.keywords = (cls.keyword,)

    def get_model(self) -> type[Token]:
        if self.model is not None:
            return self.model
        from .models import Token

        return Token

    def get_keywords(self) -> set[bytes]:
        """The accepted schemes as lower-case bytes, to compare with the header's."""
        return {keyword.lower().encode("ascii") for keyword in self.keywords}

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, Token] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.get_keywords():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        try:
            secret = tokens.parse_secret(parts[1].decode("ascii"))
        except UnicodeDecodeError:
            secret = None
        if secret is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        return self.authenticate_credentials(secret, request)

    def authenticate_credentials(
        self, secret: str, request: Request
    ) -> tuple[AbstractBaseUser, Token]:
        model = self.get_model()
        try:
            token = model.objects.get_for_authentication(tokens.digest(secret))
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN) from None
        now = timezone.now()
        if (
            not token.user.is_active
            or token.is_expired(now)
            or not address_allowed(request.META.get("REMOTE_ADDR"), token.allowed_subnets)
        ):
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        self.touch(token, now, request)
        return token.user, token

    def touch(self, token: Token, now: datetime, request: Request | None = None) -> None:
        """Record use: ``last_used`` at most once per ``LAST_USED_INTERVAL``, and the client's
        network when the token was not used from it before, in one conditional UPDATE.

        Use from a known network within the interval writes nothing. A new network after
        the first sends :data:`~django_stepup.signals.token_used_from_new_network` (once:
        of parallel requests, the one whose UPDATE wins).
        """
        from django.db.models import Q

        from .networks import network_of, with_network

        threshold = now - stepup_settings.LAST_USED_INTERVAL
        stale = token.last_used is None or token.last_used <= threshold
        address = None if request is None else request.META.get("REMOTE_ADDR")
        network = network_of(address)
        known = list(token.networks or [])
        if network is None or network in known:
            if not stale:
                return
            self.get_model().objects.filter(
                Q(last_used__isnull=True) | Q(last_used__lte=threshold), pk=token.pk
            ).update(last_used=now)
            token.last_used = now
            return
        networks = with_network(known, network)
        changes = {"networks": networks, **({"last_used": now} if stale else {})}
        if not self.get_model().objects.filter(pk=token.pk, networks=known).update(**changes):
            return
        for name, value in changes.items():
            setattr(token, name, value)
        if known and request is not None:
            self.report_new_network(token, network, str(normalise_address(address)), request)

    def report_new_network(
        self, token: Token, network: str, address: str, request: Request
    ) -> None:
        """Send ``token_used_from_new_network``; receivers may read ``request.user`` and
        ``request.auth`` (set here, as DRF sets them once this authenticator returns)."""
        from . import signals

        request.user = token.user
        request.auth = token
        signals.token_used_from_new_network.send(
            sender=type(token),
            user=token.user,
            token=token,
            network=network,
            ip_address=address,
            request=request,
        )

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def configured_authentication_classes() -> list[type[StepUpTokenAuthentication]]:
    """The classes of ``STEPUP["AUTHENTICATION_CLASSES"]`` (dotted paths imported on first use)."""
    return stepup_settings.authentication_classes


class ConfiguredAuthenticationClasses:
    """A view attribute that reads ``STEPUP["AUTHENTICATION_CLASSES"]`` at each access.

    ``authentication_classes = ConfiguredAuthenticationClasses()`` on a view class: DRF
    instantiates the configured classes per request; a subclass may still assign a list.
    """

    def __get__(
        self, instance: object, owner: type | None = None
    ) -> list[type[StepUpTokenAuthentication]]:
        return list(configured_authentication_classes())


def challenge_scheme() -> str:
    """The scheme of the app's ``WWW-Authenticate`` challenges: the first configured class's."""
    return configured_authentication_classes()[0].keyword
