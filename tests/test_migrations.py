from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_missing_migrations():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=StringIO())


@pytest.mark.django_db(transaction=True)
def test_migrate_to_zero_and_back():
    call_command("migrate", "django_stepup", "zero", verbosity=0)
    call_command("migrate", "django_stepup", verbosity=0)
