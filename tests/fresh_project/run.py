"""The wheel in a fresh ``django-admin startproject``, set up as docs/installation.rst says.

Builds the wheel from this checkout, installs it into a new virtualenv (its dependencies
come from the package index), creates a project with Django's own ``User`` and default
settings, applies every Python block of docs/installation.rst whose first line names a
file (``# settings.py``…), points Django's default SMTP backend at a loopback port where
nothing listens, migrates, starts ``runserver`` on a free loopback port and drives the
documented flow over HTTP. TOTP codes come from pyotp in the running interpreter.

Prints one line per check and a last line ``fresh-project: N passed, M failed``; exits
non-zero when a check failed. Usage: ``python tests/fresh_project/run.py [--keep]``.
"""

import argparse
import base64
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyotp

REPOSITORY = Path(__file__).resolve().parents[2]
INSTALLATION = REPOSITORY / "docs" / "installation.rst"
PROJECT = "mysite"
USERNAME = "alice"
PASSWORD = "fresh-project-password"
AUTH = "/api/v1/auth/"
HOST_VIEW = "/api/v1/whoami/"
STAFF = "bob"
ADMIN_LOGIN = "/admin/login/"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
INVALID_ADMIN_LOGIN = "Please enter the correct username, password and code"
# A staff user with a TOTP device made through django-otp's ORM, as a project that used
# django-otp before has them; prints the device's key.
CREATE_STAFF = (
    "from django.contrib.auth.models import User; "
    "from django_otp.plugins.otp_totp.models import TOTPDevice; "
    f"bob = User.objects.create_user({STAFF!r}, 'bob@example.com', {{password!r}}, "
    "is_staff=True, is_superuser=True); "
    "print(TOTPDevice.objects.create(user=bob, name='old phone', confirmed=True).key)"
)


def documented_blocks(text):
    """``(file name, code)`` for each Python block whose first line is ``# <name>.py``."""
    blocks = []
    pattern = re.compile(r"^\.\. code-block:: python\n\n((?:(?: +.*)?\n)+)", re.MULTILINE)
    for match in pattern.finditer(text):
        code = textwrap.dedent(match.group(1)).strip("\n") + "\n"
        first, _, body = code.partition("\n")
        name = re.fullmatch(r"# (\w+\.py)", first.strip())
        if name:
            blocks.append((name.group(1), body))
    return blocks


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(*command, **kwargs):
    return subprocess.run(command, check=True, text=True, capture_output=True, **kwargs)


def checkout_copy(target):
    """The checkout's files as they are (tracked and new, not ignored), without build litter."""
    listed = run("git", "ls-files", "-z", "-co", "--exclude-standard", cwd=REPOSITORY).stdout
    for name in filter(None, listed.split("\0")):
        source = REPOSITORY / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


class Client:
    def __init__(self, base):
        self.base = base

    def request(self, method, path, body=None, token=None):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Token {token}"
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), _json(response.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), _json(error.read())


def _json(raw):
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return raw.decode(errors="replace")[:300]


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, condition, detail=""):
        if condition:
            self.passed += 1
            print(f"ok    {name}")
        else:
            self.failed += 1
            print(f"FAIL  {name}: {detail}")
        return condition


def drive(client, checks):
    """The documented flow; stops at the first failure that later steps depend on."""
    status, _, body = client.request(
        "POST", AUTH + "login/", {"username": USERNAME, "password": PASSWORD}
    )
    if not checks.check(
        "login with username and password: 200, mfa false",
        status == 200 and isinstance(body, dict) and body.get("mfa") is False,
        f"{status} {body}",
    ):
        return
    login_token = body["token"]

    status, _, body = client.request("POST", AUTH + "totp/", {"name": "phone"}, login_token)
    if not checks.check(
        "create a TOTP factor: 201 with its secret",
        status == 201 and isinstance(body, dict) and body.get("secret"),
        f"{status} {body}",
    ):
        return
    factor_id, totp = body["id"], pyotp.TOTP(body["secret"])

    status, _, body = client.request(
        "POST", f"{AUTH}totp/{factor_id}/verify/", {"code": totp.now()}, login_token
    )
    if not checks.check(
        "verify the factor with a TOTP code: 200, mfa true",
        status == 200 and isinstance(body, dict) and body.get("mfa") is True,
        f"{status} {body}",
    ):
        return

    status, _, body = client.request("POST", AUTH + "tokens/", {"name": "ci"}, login_token)
    if not checks.check(
        "create an API token with the promoted token: 201 with its secret (mail fails)",
        status == 201 and isinstance(body, dict) and body.get("token") and body["mfa"] is None,
        f"{status} {body}",
    ):
        return
    api_token = body["token"]

    status, _, body = client.request("GET", HOST_VIEW, token=api_token)
    checks.check(
        "the API token works on a host view: 200",
        status == 200 and body == {"username": USERNAME},
        f"{status} {body}",
    )

    status, _, body = client.request(
        "POST", AUTH + "login/", {"username": USERNAME, "password": PASSWORD}
    )
    if not checks.check(
        "a second password-only login: 200, mfa false",
        status == 200 and isinstance(body, dict) and body.get("mfa") is False,
        f"{status} {body}",
    ):
        return
    weak_token = body["token"]
    for method, path, body in [("POST", AUTH + "tokens/", {"name": "x"}), ("GET", HOST_VIEW, None)]:
        status, headers, answer = client.request(method, path, body, weak_token)
        challenge = headers.get("WWW-Authenticate", "")
        checks.check(
            f"the password-only token gets the step-up challenge on {method} {path}",
            status == 401
            and 'error="insufficient_user_authentication"' in challenge
            and isinstance(answer, dict)
            and answer.get("code") == "mfa_required",
            f"{status} {challenge!r} {answer}",
        )


def drive_existing_otp_user(client, checks, totp):
    """A staff user whose django-otp device predates the app: MFA holds in the API and the admin."""
    status, _, body = client.request(
        "POST", AUTH + "login/", {"username": STAFF, "password": PASSWORD}
    )
    if not checks.check(
        "the user with an ORM-made django-otp device logs in: 200, mfa false",
        status == 200 and isinstance(body, dict) and body.get("mfa") is False,
        f"{status} {body}",
    ):
        return
    status, _, answer = client.request("POST", AUTH + "tokens/", {"name": "x"}, body["token"])
    checks.check(
        "their password-only token gets the step-up challenge on POST /api/v1/auth/tokens/",
        status == 401 and isinstance(answer, dict) and answer.get("code") == "mfa_required",
        f"{status} {answer}",
    )
    browser = Browser(client.base)
    status, page = browser.admin_login(STAFF, PASSWORD, code=None)
    checks.check(
        "the admin refuses the password alone",
        status == 200 and INVALID_ADMIN_LOGIN in page,
        f"{status} {page[:300]}",
    )
    status, page = browser.admin_login(STAFF, PASSWORD, code=totp.now())
    checks.check(
        "the admin lets the password and the TOTP code in",
        status == 200 and 'id="site-name"' in page and "Log in" not in page,
        f"{status} {page[:300]}",
    )


class Browser:
    """Just enough of a browser for Django's admin login: cookies and the CSRF token."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path):
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.status, response.read().decode()

    def admin_login(self, username, password, code):
        _, page = self.get(ADMIN_LOGIN + "?next=/admin/")
        fields = {
            "csrfmiddlewaretoken": CSRF_INPUT.search(page).group(1),
            "username": username,
            "password": password,
            "next": "/admin/",
        }
        if code is not None:
            fields["otp_token"] = code
        request = urllib.request.Request(
            self.base + ADMIN_LOGIN,
            urllib.parse.urlencode(fields).encode(),
            {"Referer": self.base + ADMIN_LOGIN},
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    arguments = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="stepup-fresh-"))
    checks = Checks()
    server = None
    started = time.monotonic()
    try:
        source, wheels, venv, project = (workdir / name for name in ("src", "dist", "venv", "p"))
        source.mkdir()
        checkout_copy(source)
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
        run(*pip, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(source))
        (wheel,) = wheels.glob("django_stepup-*.whl")
        checks.check("the wheel builds", True)
        run(sys.executable, "-m", "venv", str(venv))
        python = str(venv / "bin" / "python")
        run(python, "-m", "pip", "--disable-pip-version-check", "--quiet", "install", str(wheel))
        checks.check(f"{wheel.name} installs into a fresh virtualenv", True)

        project.mkdir()
        run(str(venv / "bin" / "django-admin"), "startproject", PROJECT, str(project))
        package = project / PROJECT
        blocks = documented_blocks(INSTALLATION.read_text())
        files = {name for name, _ in blocks}
        if not checks.check(
            "docs/installation.rst has settings.py and urls.py blocks",
            {"settings.py", "urls.py"} <= files,
            f"found {sorted(files)}",
        ):
            return 1
        for name, code in blocks:
            with (package / name).open("a") as file:
                file.write("\n" + code)
        smtp_port = free_port()  # bound and released: nothing listens there
        with (package / "settings.py").open("a") as file:
            file.write(
                "\n# The test's mail server: Django's SMTP backend, and no server.\n"
                f'EMAIL_HOST = "127.0.0.1"\nEMAIL_PORT = {smtp_port}\nEMAIL_TIMEOUT = 5\n'
            )
        environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        environment.pop("DJANGO_SETTINGS_MODULE", None)
        manage = [python, str(project / "manage.py")]
        result = subprocess.run(
            [*manage, "check"], cwd=project, env=environment, text=True, capture_output=True
        )
        checks.check("manage.py check", result.returncode == 0, result.stdout + result.stderr)
        run(*manage, "migrate", "--verbosity", "0", cwd=project, env=environment)
        checks.check("manage.py migrate", True)
        run(
            *manage,
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            f"User.objects.create_user({USERNAME!r}, 'alice@example.com', {PASSWORD!r})",
            cwd=project,
            env=environment,
        )
        staff_key = run(
            *manage,
            "shell",
            "-c",
            CREATE_STAFF.format(password=PASSWORD),
            cwd=project,
            env=environment,
        ).stdout.split()[-1]
        staff_totp = pyotp.TOTP(base64.b32encode(bytes.fromhex(staff_key)).decode())

        port = free_port()
        log = (workdir / "server.log").open("w")
        server = subprocess.Popen(
            [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=project,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        client = Client(f"http://127.0.0.1:{port}")
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.1)
        if checks.check("runserver answers", server.poll() is None, "the server exited"):
            drive(client, checks)
            drive_existing_otp_user(client, checks, staff_totp)
    except subprocess.CalledProcessError as error:
        checks.check(" ".join(map(str, error.cmd[:4])), False, error.stdout + error.stderr)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
            log.close()
            if checks.failed:
                print("---- server log (last 60 lines) ----")
                lines = (workdir / "server.log").read_text().splitlines()
                print("\n".join(lines[-60:]))
        if arguments.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    seconds = time.monotonic() - started
    print(f"fresh-project: {checks.passed} passed, {checks.failed} failed ({seconds:.0f} s)")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
