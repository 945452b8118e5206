"""Sphinx configuration; project name and version come from pyproject.toml."""

import sys
import tomllib
from pathlib import Path

import django
from django.conf import settings

DOCS = Path(__file__).resolve().parent
REPOSITORY = DOCS.parent
sys.path[:0] = [str(REPOSITORY), str(DOCS / "_ext")]

with (REPOSITORY / "pyproject.toml").open("rb") as pyproject_file:
    _project = tomllib.load(pyproject_file)["project"]

settings.configure(
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "rest_framework",
        "django_otp",
        "django_otp.plugins.otp_totp",
        "django_stepup",
    ],
    USE_TZ=True,
)
django.setup()

project = _project["name"]
author = _project["authors"][0]["name"]
copyright = f"the {author}"
release = _project["version"]
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "stepupdocs",
]
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
# Inherited docstrings would document DRF's and Django's methods as ours.
autodoc_inherit_docstrings = False

html_theme = "furo"
html_title = f"{project} {release}"
exclude_patterns = ["_build"]
