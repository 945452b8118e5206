"""The example project's admin needs a second factor: django-stepup's StepUpAdminSite."""

import time

import pyotp
import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from django_stepup import otp
from django_stepup.models import Token

from .conftest import PASSWORD

TOKENS = "/admin/django_stepup/token/"
LOGIN = "/admin/login/"


@pytest.fixture
def staff(make_user):
    user = make_user("staff@example.com")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def device(staff):
    return TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)


def test_a_password_session_without_otp_cannot_reach_the_admin(client, staff, device, alice):
    client.force_login(staff)
    response = client.get(TOKENS)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    response = client.post(
        f"{TOKENS}add/", {"user": alice.pk, "name": "backdoor", "allowed_subnets": '["0.0.0.0/0"]'}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not Token.objects.exists()


def test_the_login_form_refuses_a_password_without_a_code(client, staff, device):
    response = client.post(LOGIN, {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 200
    assert client.get(TOKENS).status_code == 302


def test_password_and_totp_code_open_the_admin(client, staff, device):
    code = pyotp.TOTP(otp.factor_secret(device)).at(time.time())
    response = client.post(
        LOGIN,
        {
            "username": staff.email,
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": code,
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert client.get(TOKENS).status_code == 200
