"""StepUpAdminSite: the admin login is throttled like the API's and gives one answer."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from django_stepup import otp, signals
from django_stepup.models import AuditEvent, RecoveryCode
from tests.factories import PASSWORD, TOTPDeviceFactory, UserFactory
from tests.test_signals import capture
from tests.test_throttling import unreachable_cache
from tests.utils import login_body, login_name

SITE = "/stepup-admin/"
LOGIN = f"{SITE}login/"
API_LOGIN = "/auth/login/"
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def invalid_message():
    """The one answer to any wrong part, naming the user model's login field."""
    field = get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD)
    return f"Please enter the correct {field.verbose_name}, password and code for a staff account."


THROTTLED = "Too many login attempts. Try again later."


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_factor(staff):
    return TOTPDeviceFactory(user=staff)


def admin_login(client, username, password=PASSWORD, code=None):
    data = {"username": username, "password": password, "next": SITE}
    if code is not None:
        data["otp_token"] = code
    return client.post(LOGIN, data)


def api_login(api_client, user, password=PASSWORD):
    return api_client.post(API_LOGIN, login_body(user, password), format="json")


def body(response):
    """The page without the CSRF token, whose mask is new on every response."""
    return CSRF.sub(b"", response.content)


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_password_and_code_enter_with_an_otp_verified_session(
    client, staff, staff_factor, totp_code
):
    response = admin_login(client, login_name(staff), code=totp_code(staff_factor))
    assert response.status_code == 302
    assert response["Location"] == SITE
    response = client.get(SITE)
    assert response.status_code == 200
    assert response.wsgi_request.user.is_verified()
    assert response.wsgi_request.user.otp_device == staff_factor


def test_every_wrong_part_gets_the_same_page(client, staff, staff_factor, totp_code, user):
    code = totp_code(staff_factor)
    pages = [
        admin_login(client, login_name(staff), "wrong password", code),
        admin_login(client, login_name(staff), code=wrong(code)),
        admin_login(client, login_name(staff)),
        admin_login(client, login_name(staff), code="not a code"),
        admin_login(client, login_name(staff), "wrong password"),
    ]
    assert {page.status_code for page in pages} == {200}
    assert invalid_message() in pages[0].content.decode()
    assert code not in pages[0].content.decode()
    assert [body(page) for page in pages[1:]] == [body(pages[0])] * 4
    # A user who is not staff, with the right password, reads the same words.
    assert invalid_message() in admin_login(client, login_name(user)).content.decode()
    assert client.get(SITE).status_code == 302


def test_a_session_opened_by_password_alone_does_not_enter(client, staff, staff_factor):
    client.force_login(staff)
    response = client.get(SITE)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_the_eleventh_attempt_is_throttled_even_with_the_right_code(
    client, staff, staff_factor, totp_code
):
    for _ in range(10):
        assert invalid_message() in admin_login(client, login_name(staff), "wrong").content.decode()
    response = admin_login(client, login_name(staff), code=totp_code(staff_factor))
    assert response.status_code == 200
    assert THROTTLED in response.content.decode()
    assert invalid_message() not in response.content.decode()
    assert client.get(SITE).status_code == 302


def test_without_the_throttle_cache_the_admin_login_fails_closed(
    client, staff, staff_factor, totp_code
):
    with override_settings(**unreachable_cache(), STEPUP={"THROTTLE_CACHE": "throttle"}):
        response = admin_login(client, login_name(staff), code=totp_code(staff_factor))
    assert response.status_code == 200
    assert "Login is temporarily unavailable. Try again later." in response.content.decode()
    assert client.get(SITE).status_code == 302


def test_api_and_admin_logins_share_the_budget(client, api_client, staff, staff_factor, totp_code):
    for _ in range(5):
        assert api_login(api_client, staff, "wrong").status_code == 401
    for _ in range(5):
        assert invalid_message() in admin_login(client, login_name(staff), "wrong").content.decode()
    assert (
        THROTTLED
        in admin_login(client, login_name(staff), code=totp_code(staff_factor)).content.decode()
    )
    assert api_login(api_client, staff).status_code == 429


def test_admin_attempts_use_up_the_api_budget(client, api_client, staff):
    for _ in range(10):
        admin_login(client, login_name(staff), "wrong")
    assert api_login(api_client, staff).status_code == 429


def test_a_failed_admin_login_sends_login_failed_and_is_audited(client, staff, staff_factor):
    with capture(signals.login_failed) as received:
        admin_login(client, login_name(staff), code="123456")
    assert len(received) == 1
    assert received[0][1]["identifier"] == login_name(staff)
    event = AuditEvent.objects.get(event=AuditEvent.Event.LOGIN_FAILED)
    assert event.user == staff
    assert event.ip_address == "127.0.0.1"


def test_a_recovery_code_does_not_open_the_admin_and_is_not_used_up(client, staff, staff_factor):
    code = otp.generate_recovery_codes(staff)[0]
    assert invalid_message() in admin_login(client, login_name(staff), code=code).content.decode()
    assert RecoveryCode.objects.filter(user=staff).count() == 10
    assert client.get(SITE).status_code == 302


def test_staff_without_a_factor_are_told_they_need_one(client, staff):
    with capture(signals.login_failed) as received:
        response = admin_login(client, login_name(staff))
    assert "has no confirmed second factor" in response.content.decode()
    assert len(received) == 1
    assert client.get(SITE).status_code == 302


def test_a_pending_factor_is_no_second_factor(client, staff, totp_code):
    pending = TOTPDeviceFactory(user=staff, pending=True)
    response = admin_login(client, login_name(staff), code=totp_code(pending))
    assert "has no confirmed second factor" in response.content.decode()
    assert client.get(SITE).status_code == 302


def test_a_wrong_password_of_staff_without_a_factor_reveals_nothing(client, staff, user):
    page = admin_login(client, login_name(staff), "wrong password")
    assert invalid_message() in page.content.decode()
    assert "second factor" not in page.content.decode()


@override_settings(STEPUP={"ADMIN_REQUIRE_MFA": False})
def test_without_the_requirement_staff_without_a_factor_enter_by_password(client, staff):
    assert admin_login(client, login_name(staff)).status_code == 302
    response = client.get(SITE)
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_verified()


@override_settings(STEPUP={"ADMIN_REQUIRE_MFA": False})
def test_without_the_requirement_staff_with_a_factor_still_need_its_code(
    client, staff, staff_factor, totp_code
):
    assert invalid_message() in admin_login(client, login_name(staff)).content.decode()
    client.force_login(staff)
    assert client.get(SITE).status_code == 302
    client.logout()
    assert admin_login(client, login_name(staff), code=totp_code(staff_factor)).status_code == 302
    assert client.get(SITE).status_code == 200


def test_an_admin_login_makes_its_network_known_to_the_throttle(
    client, api_client, staff, staff_factor, totp_code, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin_login(client, login_name(staff), code=totp_code(staff_factor))
    assert client.get(SITE).status_code == 200
    for i in range(10):
        wrong_body = login_body(staff, "wrong")
        api_client.post(API_LOGIN, wrong_body, format="json", REMOTE_ADDR=f"203.0.113.{i + 1}")
    assert api_client.post(API_LOGIN, login_body(staff), format="json").status_code == 200
