"""The example project's admin driven in headless Chromium (Debian's package, via Playwright).

Nothing downloads a browser: the test uses ``/usr/bin/chromium`` and skips, saying so,
when it or Playwright is missing. Screenshots of the token list and of the page showing
a new secret land in ``test-output/`` for review.
"""

import json
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pyotp
import pytest
from django.db import connections
from django_otp.plugins.otp_totp.models import TOTPDevice

from django_stepup import otp
from django_stepup.models import Token, TokenPolicy
from dnsapi.models import Domain

from .conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"

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
def browser_page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls between
    # browser steps are plain synchronous calls all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()
            # The ORM calls made while Playwright's loop ran used a connection of their
            # own context; close it, or the test database cannot be dropped.
            connections.close_all()


def api_status(live_server, secret):
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/domains/", headers={"Authorization": f"Token {secret}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.load(response)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def totp_code(device):
    """The code of the current time step; waits for the next step if this one is used."""
    device.refresh_from_db()
    now = time.time()
    if device.last_t is not None and device.last_t >= int(now // device.step):
        time.sleep(device.step - now % device.step + 1)
    return pyotp.TOTP(otp.factor_secret(device)).now()


def log_in(page, live_server, staff, device):
    page.goto(f"{live_server.url}/admin/")
    # One step: login name, password and code are judged together.
    page.fill("#id_username", staff.email)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", totp_code(device))
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    assert "/admin/login/" not in page.url


def save_inline(page, fields, checks=()):
    for selector, value in fields.items():
        page.fill(selector, value)
    for selector in checks:
        page.check(selector)
    page.click("input[name=_continue]")
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True)
def test_admin_in_a_real_browser(live_server, browser_page, make_user):
    page = browser_page
    staff = make_user("staff@example.com")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    owner = make_user("owner@example.com")
    domain = Domain.objects.create(owner=owner, name="example.com")

    log_in(page, live_server, staff, device)

    # Create a token: the secret is on the next page, once.
    page.goto(f"{live_server.url}/admin/django_stepup/token/add/")
    # The user is picked by autocomplete (select2), searching by email.
    page.click("#id_user + .select2 .select2-selection")
    page.fill(".select2-search__field", "owner@")
    page.click(".select2-results__option >> text=owner@example.com")
    page.fill("#id_name", "browser key")
    page.click("input[name=_save]")
    secret = page.inner_text("#token-secret").strip()
    page.screenshot(path=OUTPUT / "admin-token-secret.png", full_page=True)
    token = Token.objects.get(name="browser key")
    assert token.user == owner
    assert api_status(live_server, secret) == 200

    # Anywhere else it is gone.
    page.click("text=Edit the token")
    assert secret not in page.content()
    page.goto(f"{live_server.url}/admin/django_stepup/token/")
    assert "browser key" in page.content()
    assert secret not in page.content()
    page.screenshot(path=OUTPUT / "admin-token-list.png", full_page=True)

    # Policies inline: the default first, then one for the owner's domain.
    page.goto(f"{live_server.url}/admin/django_stepup/token/{token.pk}/change/")
    save_inline(page, {}, checks=["#id_policies-rrsets-0-add"])
    save_inline(
        page,
        {"#id_policies-rrsets-1-domain": "example.com", "#id_policies-rrsets-1-type": "A"},
        checks=["#id_policies-rrsets-1-perm_write"],
    )
    policies = TokenPolicy.objects.filter(token=token).order_by("created")
    assert [(p.values, p.perm_write) for p in policies] == [
        ({"domain": None, "subname": None, "type": None}, False),
        ({"domain": domain.pk, "subname": None, "type": "A"}, True),
    ]
    assert page.input_value("#id_policies-rrsets-1-domain") == "example.com"

    # An invalid one: the error is on the form and nothing is stored.
    save_inline(page, {"#id_policies-rrsets-2-domain": "unknown.example"})
    assert "There is no domain 'unknown.example' in this account." in page.inner_text(
        "#content-main"
    )
    page.screenshot(path=OUTPUT / "admin-policy-error.png", full_page=True)
    assert TokenPolicy.objects.filter(token=token).count() == 2

    # Revoke it from the list; the API refuses it from then on.
    page.goto(f"{live_server.url}/admin/django_stepup/token/")
    page.check(f"input[name=_selected_action][value='{token.pk}']")
    page.select_option("select[name=action]", "revoke_tokens")
    page.click("button[name=index]")
    page.wait_for_selector("text=Revoked 1 token.")
    assert not Token.objects.filter(pk=token.pk).exists()
    assert api_status(live_server, secret) == 401
