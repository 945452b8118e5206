from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from django_stepup.models import MFAState, Token
from django_stepup.permissions import RecentMFA
from tests.factories import TokenFactory, UserFactory
from tests.utils import KNOWN_NETWORKS, authenticated

CHALLENGE = (
    'Token error="insufficient_user_authentication", '
    'error_description="This action needs a login token promoted by a second factor."'
)


@pytest.fixture
def mfa_user(db):
    user = UserFactory()
    MFAState.objects.create(user=user, enabled=True)
    return user


def get(api_client, token, url):
    return authenticated(api_client, token.secret).get(url)


def assert_challenge(response, max_age=None):
    assert response.status_code == 401
    assert response.json()["code"] == "mfa_required"
    header = response["WWW-Authenticate"]
    assert header.startswith('Token error="insufficient_user_authentication", error_description="')
    if max_age is None:
        assert "max_age" not in header
    else:
        assert header.endswith(f", max_age={max_age}")


class TestMFARequiredIfEnabled:
    URL = "/guarded/mfa/"

    def test_unpromoted_login_token_of_mfa_user_is_challenged(self, api_client, mfa_user):
        response = get(api_client, TokenFactory(user=mfa_user, login=True), self.URL)
        assert_challenge(response)
        assert response["WWW-Authenticate"] == CHALLENGE
        assert response.json() == {
            "detail": "This action needs a login token promoted by a second factor.",
            "code": "mfa_required",
        }

    def test_promoted_login_token_passes(self, api_client, mfa_user):
        assert (
            get(api_client, TokenFactory(user=mfa_user, promoted=True), self.URL).status_code == 200
        )

    def test_login_token_of_user_without_mfa_passes(self, api_client, user):
        assert get(api_client, TokenFactory(user=user, login=True), self.URL).status_code == 200

    def test_api_token_passes_whatever_the_users_mfa(self, api_client, mfa_user):
        assert get(api_client, TokenFactory(user=mfa_user), self.URL).status_code == 200

    def test_state_is_read_per_request(self, api_client, user):
        token = TokenFactory(user=user, login=True)
        assert get(api_client, token, self.URL).status_code == 200
        MFAState.objects.filter(user=user).update(enabled=True)
        assert_challenge(get(api_client, token, self.URL))

    def test_adds_no_query(self, api_client, mfa_user, django_assert_num_queries):
        token = TokenFactory(
            user=mfa_user, promoted=True, last_used=timezone.now(), networks=KNOWN_NETWORKS
        )
        client = authenticated(api_client, token.secret)
        with django_assert_num_queries(1):
            assert client.get(self.URL).status_code == 200
        unpromoted = TokenFactory(
            user=mfa_user, login=True, last_used=timezone.now(), networks=KNOWN_NETWORKS
        )
        client = authenticated(api_client, unpromoted.secret)
        with django_assert_num_queries(1):
            assert_challenge(client.get(self.URL))

    def test_anonymous_is_401_not_a_challenge(self, api_client, db):
        response = api_client.get(self.URL)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"

    def test_session_login_is_denied(self, client, mfa_user):
        client.force_login(mfa_user)
        response = client.get(self.URL)
        assert response.status_code in (401, 403)


class TestRecentMFA:
    def test_fresh_promotion_passes(self, api_client, mfa_user):
        token = TokenFactory(user=mfa_user, promoted=True)
        assert get(api_client, token, "/guarded/recent/").status_code == 200

    def test_stale_promotion_is_challenged_with_max_age(self, api_client, mfa_user):
        token = TokenFactory(user=mfa_user, promoted=True)
        with time_machine.travel(token.mfa_at + timedelta(seconds=301)):
            assert_challenge(get(api_client, token, "/guarded/recent/"), max_age=300)
        with time_machine.travel(token.mfa_at + timedelta(seconds=299)):
            assert get(api_client, token, "/guarded/recent/").status_code == 200

    def test_unpromoted_is_challenged_with_max_age(self, api_client, mfa_user):
        response = get(api_client, TokenFactory(user=mfa_user, login=True), "/guarded/recent/")
        assert_challenge(response, max_age=300)

    def test_default_comes_from_setting(self, api_client, mfa_user, settings):
        settings.STEPUP = {"RECENT_MFA_MAX_AGE": timedelta(seconds=30)}
        token = TokenFactory(user=mfa_user, promoted=True)
        with time_machine.travel(token.mfa_at + timedelta(seconds=31)):
            assert_challenge(get(api_client, token, "/guarded/recent-default/"), max_age=30)

    def test_view_attribute(self, api_client, mfa_user):
        token = TokenFactory(user=mfa_user, promoted=True)
        with time_machine.travel(token.mfa_at + timedelta(seconds=61)):
            assert_challenge(get(api_client, token, "/guarded/recent-attribute/"), max_age=60)

    @pytest.mark.parametrize("url", ["/guarded/recent-zero/", "/guarded/recent-zero-attribute/"])
    def test_max_age_zero_challenges_any_earlier_promotion(self, api_client, mfa_user, url):
        """0 is not "unset" (the default 5 minutes): a promotion a second old is stale."""
        token = TokenFactory(user=mfa_user, promoted=True)
        with time_machine.travel(token.mfa_at + timedelta(seconds=1)):
            assert_challenge(get(api_client, token, url), max_age=0)
        with time_machine.travel(token.mfa_at, tick=False):
            assert get(api_client, token, url).status_code == 200

    def test_a_negative_max_age_is_a_programming_error(self):
        with pytest.raises(ValueError, match="0 seconds or more"):
            RecentMFA.with_max_age(-1)

    def test_api_tokens_and_users_without_mfa_pass(self, api_client, mfa_user, user):
        assert get(api_client, TokenFactory(user=mfa_user), "/guarded/recent/").status_code == 200
        token = TokenFactory(user=user, login=True)
        assert get(api_client, token, "/guarded/recent/").status_code == 200


@pytest.mark.parametrize(
    ("fields", "login_status", "api_status"),
    [({}, 403, 200), ({"login": True}, 200, 403), ({"promoted": True}, 200, 403)],
)
def test_token_kind_classes(api_client, db, fields, login_status, api_status):
    token = TokenFactory(**fields)
    assert get(api_client, token, "/guarded/login-token/").status_code == login_status
    assert get(api_client, token, "/guarded/api-token/").status_code == api_status


def test_mfa_is_none_checked_explicitly(api_client, mfa_user):
    """An API token is never mistaken for an unpromoted login token (None is not False)."""
    token = TokenFactory(user=mfa_user, mfa=None)
    assert Token.objects.get(pk=token.pk).mfa is None
    assert get(api_client, token, "/guarded/mfa/").status_code == 200
