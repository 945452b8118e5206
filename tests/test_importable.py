import subprocess
import sys


def test_authentication_imports_before_apps_are_ready():
    """DRF imports it by dotted path while settings load: it must not touch models."""
    code = (
        "import django_stepup.authentication, django_stepup.conf, django_stepup.tokens;"
        "import django_stepup.permissions;"
        "from django.apps import apps; assert not apps.ready"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
