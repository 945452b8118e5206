"""The passkey page in headless Chromium with Chrome's virtual authenticator (DevTools).

Registers a passkey on the page, steps up a fresh login token with it and logs in with
it alone, served by the live server on ``localhost`` (a secure context for WebAuthn).
Debian's Chromium, as in ``test_admin_browser``; skipped, saying so, without it.
"""

import shutil

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from django_stepup.models import Token, WebAuthnDevice

from .conftest import PASSWORD
from .test_admin_browser import CHROMIUM, CHROMIUM_ARGS, OUTPUT

sync_playwright = pytest.importorskip(
    "playwright.sync_api", reason="Playwright's Python package is not installed"
).sync_playwright

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None,
        reason=f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)",
    ),
]


@pytest.fixture
def passkey_page(monkeypatch, live_server, settings):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.STEPUP = {
        **settings.STEPUP,
        "WEBAUTHN_RP_ID": "localhost",
        "WEBAUTHN_ORIGINS": [live_server.url.replace("127.0.0.1", "localhost")],
    }
    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            cdp = page.context.new_cdp_session(page)
            cdp.send("WebAuthn.enable")
            cdp.send(
                "WebAuthn.addVirtualAuthenticator",
                {
                    "options": {
                        "protocol": "ctap2",
                        "transport": "internal",
                        "hasResidentKey": True,
                        "hasUserVerification": True,
                        "isUserVerified": True,
                        "automaticPresenceSimulation": True,
                    }
                },
            )
            page.goto(f"{settings.STEPUP['WEBAUTHN_ORIGINS'][0]}/passkeys/")
            yield page
        finally:
            browser.close()
            connections.close_all()


def click(page, button, expected):
    page.click(f"#{button}")
    page.wait_for_function(
        "expected => document.getElementById('log').textContent.startsWith(expected)"
        " || document.getElementById('log').textContent.startsWith('Failed')",
        arg=expected,
    )
    assert page.inner_text("#log").startswith(expected), page.inner_text("#log")


def password_login(page, email):
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    click(page, "login", "Logged in with the password.")


@pytest.mark.django_db(transaction=True)
def test_passkey_page_registers_steps_up_and_logs_in(passkey_page, make_user):
    page = passkey_page
    user = make_user("passkey@example.com")

    password_login(page, user.email)
    assert page.inner_text("#token-state") == "mfa: false, mfa_method: null"
    click(page, "register", 'Passkey "this device" registered')
    assert page.inner_text("#token-state") == "mfa: true, mfa_method: webauthn"
    device = WebAuthnDevice.objects.get(user=user)
    assert device.confirmed
    assert device.discoverable

    # MFA is on now: a fresh password login is unpromoted until the passkey steps it up.
    password_login(page, user.email)
    assert page.inner_text("#token-state") == "mfa: false, mfa_method: null"
    click(page, "step-up", "The login token is promoted by the passkey.")
    assert page.inner_text("#token-state") == "mfa: true, mfa_method: webauthn"

    click(page, "passkey-login", "Logged in with the passkey alone.")
    assert page.inner_text("#token-state") == "mfa: true, mfa_method: webauthn"
    page.screenshot(path=OUTPUT / "passkeys.png", full_page=True)
    user = get_user_model().objects.get(pk=user.pk)
    assert Token.objects.filter(user=user, mfa=True, mfa_method="webauthn").count() == 3
