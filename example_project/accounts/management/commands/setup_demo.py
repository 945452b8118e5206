"""Create (or reuse) the demo account with an active TOTP factor and print how to log in."""

import base64
import io

import qrcode
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from django_stepup.models import MFAState

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "stepup-demo-password"
BASE = "http://127.0.0.1:8000/api/v1"


class Command(BaseCommand):
    help = "Create the demo user with a TOTP factor (idempotent) and print a walkthrough."

    @transaction.atomic
    def handle(self, *args, **options):
        user, created = get_user_model().objects.get_or_create(email=DEMO_EMAIL)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        device = TOTPDevice.objects.filter(user=user, name="demo authenticator").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="demo authenticator", confirmed=True)
        MFAState.objects.update_or_create(user=user, defaults={"enabled": True})
        secret = base64.b32encode(device.bin_key).decode()
        self.stdout.write(self.walkthrough(secret, device.config_url))

    def walkthrough(self, secret, uri):
        qr = qrcode.QRCode(border=1)
        qr.add_data(uri)
        picture = io.StringIO()
        qr.print_ascii(out=picture, invert=True)
        return f"""
Demo account
  email:    {DEMO_EMAIL}
  password: {DEMO_PASSWORD}
  TOTP secret (base32): {secret}
  Scan this with an authenticator app, or compute codes with
  python -c "import pyotp; print(pyotp.TOTP('{secret}').now())"

{picture.getvalue()}
Walkthrough (paste into a shell while the server runs):

  TOKEN=$(curl -s -X POST {BASE}/auth/login/ -H 'Content-Type: application/json' \\
    -d '{{"email": "{DEMO_EMAIL}", "password": "{DEMO_PASSWORD}"}}' \\
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  curl -i {BASE}/ping/ -H "Authorization: Token $TOKEN"    # 401 step-up challenge
"""
