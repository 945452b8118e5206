import subprocess
import sys


def test_modules_drf_imports_by_path_load_before_apps_are_ready():
    """DRF imports them by dotted path while settings load: they must not touch models."""
    code = (
        "import django_stepup.authentication, django_stepup.conf, django_stepup.tokens;"
        "import django_stepup.permissions;"
        "from django.apps import apps; assert not apps.ready"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
