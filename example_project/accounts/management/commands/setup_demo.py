"""Create (or reset) the demo account with an active TOTP factor and print a walkthrough.

Running it again is safe: the account, its password and its factor are kept or
restored, and its tokens and domains are removed so that the walkthrough starts
from the same state every time.
"""

import io
import shlex
import sys

import qrcode
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from django_stepup import otp
from django_stepup.models import MFAState, Token
from dnsapi.models import Domain

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "stepup-demo-password"
DEMO_FACTOR = "demo authenticator"
DEMO_DOMAIN = "demo.example"
BASE = "http://127.0.0.1:8000/api/v1"


class Command(BaseCommand):
    help = "Create or reset the demo user with a TOTP factor and print a curl walkthrough."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-qr", action="store_true", help="Don't draw the QR code in the terminal."
        )

    def handle(self, *args, no_qr=False, **options):
        with transaction.atomic():
            device = self.reset_demo_account()
        secret = otp.factor_secret(device)
        if not no_qr:
            self.stdout.write(self.qr_code(otp.provisioning_uri(device)))
        self.stdout.write(self.walkthrough(secret))

    def reset_demo_account(self):
        user, _created = get_user_model().objects.get_or_create(email=DEMO_EMAIL)
        user.set_password(DEMO_PASSWORD)
        user.is_active = True
        # The demo account also administers the demo: the admin asks for its TOTP code too.
        user.is_staff = True
        user.is_superuser = True
        user.save()
        device, _created = TOTPDevice.objects.get_or_create(
            user=user, name=DEMO_FACTOR, defaults={"confirmed": True}
        )
        if not device.confirmed:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
        MFAState.objects.update_or_create(user=user, defaults={"enabled": True})
        otp.reset_verification_lockout(user)
        Token.objects.filter(user=user).delete()
        Domain.objects.filter(owner=user).delete()
        return device

    def qr_code(self, uri):
        qr = qrcode.QRCode(border=1)
        qr.add_data(uri)
        picture = io.StringIO()
        qr.print_ascii(out=picture, invert=True)
        return picture.getvalue()

    def walkthrough(self, secret):
        python = shlex.quote(sys.executable)
        field = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"{}\"])'".format
        return f"""
Demo account (reset by every run of setup_demo)
  email:    {DEMO_EMAIL}
  password: {DEMO_PASSWORD}
  TOTP secret (base32): {secret}
  Scan the QR code above with an authenticator app, or compute the current code with
  {python} -c "import pyotp; print(pyotp.TOTP('{secret}').now())"

Walkthrough: paste into bash while the server runs (answers as commented).

BASE={BASE}
JSON='Content-Type: application/json'

# 1. Log in with the password: a login token, not yet promoted ("mfa": false).
TOKEN=$(curl -s -X POST $BASE/auth/login/ -H "$JSON" \\
  -d '{{"email": "{DEMO_EMAIL}", "password": "{DEMO_PASSWORD}"}}' | {field("token")})

# 2. The account has MFA, so the DNS API answers with the step-up challenge:
#    HTTP/1.1 401 Unauthorized + WWW-Authenticate: Token error="insufficient_user_authentication", ...
curl -si $BASE/domains/ -H "Authorization: Token $TOKEN" | grep -iE '^(HTTP|WWW-Authenticate)'

# 3. Verify a TOTP code: the token is promoted. Prints: True
CODE=$({python} -c "import pyotp; print(pyotp.TOTP('{secret}').now())")
curl -s -X POST $BASE/auth/mfa/verify/ -H "Authorization: Token $TOKEN" -H "$JSON" \\
  -d "{{\\"code\\": \\"$CODE\\"}}" | {field("mfa")}

# 4. Create a domain. Prints: {DEMO_DOMAIN}
curl -s -X POST $BASE/domains/ -H "Authorization: Token $TOKEN" -H "$JSON" \\
  -d '{{"name": "{DEMO_DOMAIN}"}}' | {field("name")}

# 5. Create an API token restricted to www/A of {DEMO_DOMAIN}: a default policy that
#    denies writes, and one that allows them for www/A. Prints: False, then True
NEW=$(curl -s -X POST $BASE/auth/tokens/ -H "Authorization: Token $TOKEN" -H "$JSON" \\
  -d '{{"name": "www only"}}')
API_ID=$(echo "$NEW" | {field("id")})
API_TOKEN=$(echo "$NEW" | {field("token")})
curl -s -X POST $BASE/auth/tokens/$API_ID/policies/rrsets/ -H "Authorization: Token $TOKEN" \\
  -H "$JSON" -d '{{"perm_write": false}}' | {field("perm_write")}
curl -s -X POST $BASE/auth/tokens/$API_ID/policies/rrsets/ -H "Authorization: Token $TOKEN" \\
  -H "$JSON" -d '{{"domain": "{DEMO_DOMAIN}", "subname": "www", "type": "A", "perm_write": true}}' \\
  | {field("perm_write")}

# 6. The API token writes the RRset its policy allows. Prints: 201
curl -s -o /dev/null -w '%{{http_code}}\\n' -X POST $BASE/domains/{DEMO_DOMAIN}/rrsets/ \\
  -H "Authorization: Token $API_TOKEN" -H "$JSON" \\
  -d '{{"subname": "www", "type": "A", "ttl": 3600, "records": ["192.0.2.1"]}}'

# 7. Any other write is refused. Prints: {{"detail":"Insufficient token permissions."}} 403
curl -s -w ' %{{http_code}}\\n' -X POST $BASE/domains/{DEMO_DOMAIN}/rrsets/ \\
  -H "Authorization: Token $API_TOKEN" -H "$JSON" \\
  -d '{{"subname": "mail", "type": "A", "ttl": 3600, "records": ["192.0.2.2"]}}'

The admin, http://127.0.0.1:8000/admin/, asks for the same email, password and a TOTP
code; it lists the tokens above with their kind, expiry and policies.

Passkeys: open http://localhost:8000/passkeys/ (localhost: WebAuthn binds to the origin)
to log in, register a passkey, step up a login token with it and log in with it alone.
"""
