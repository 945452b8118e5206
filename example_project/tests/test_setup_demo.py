"""``manage.py setup_demo``: safe to run again, and its walkthrough names a working secret."""

import base64
import io
import re

import pyotp
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.management.commands.setup_demo import DEMO_EMAIL, DEMO_PASSWORD
from django_stepup.models import MFAState, Token
from dnsapi.models import Domain

from .conftest import API


def run_setup_demo():
    out = io.StringIO()
    call_command("setup_demo", stdout=out)
    return out.getvalue()


def printed_secret(output):
    return re.search(r"TOTP secret \(base32\): ([A-Z2-7]+)", output).group(1)


def test_running_it_twice_keeps_one_user_and_one_factor(db):
    first = run_setup_demo()
    second = run_setup_demo()

    assert get_user_model().objects.filter(email=DEMO_EMAIL).count() == 1
    (factor,) = TOTPDevice.objects.all()
    assert factor.confirmed
    assert MFAState.objects.get(user=factor.user).enabled
    assert printed_secret(first) == printed_secret(second)
    assert base64.b32decode(printed_secret(first)) == factor.bin_key
    assert len(factor.bin_key) >= 20


def test_the_printed_secret_and_password_log_in(db, api_client):
    secret = printed_secret(run_setup_demo())

    response = api_client.post(
        f"{API}/auth/login/",
        {"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "code": pyotp.TOTP(secret).now()},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["mfa"] is True


def test_a_rerun_resets_tokens_domains_password_and_lockout(db):
    run_setup_demo()
    user = get_user_model().objects.get(email=DEMO_EMAIL)
    Token.objects.create_token(user)
    Domain.objects.create(owner=user, name="demo.example")
    user.set_password("changed")
    user.save()
    MFAState.objects.filter(user=user).update(failure_count=7)

    run_setup_demo()

    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)
    assert not Token.objects.exists()
    assert not Domain.objects.exists()
    assert MFAState.objects.get(user=user).failure_count == 0


def test_prints_a_qr_code_and_the_walkthrough(db):
    output = run_setup_demo()

    assert "█" in output
    for step in ("/auth/login/", "/auth/mfa/verify/", "/auth/tokens/", "/policies/rrsets/"):
        assert step in output
    assert "http://localhost:8000/passkeys/" in output
