"""Schema-driven fuzzing of the example project with schemathesis, with three kinds of token.

Starts the example project (DEBUG off) on a fresh SQLite database on 127.0.0.1, makes
three users with a TOTP factor each and a token for each (a promoted login token, an
unpromoted login token, an API token restricted to one RRset), then runs schemathesis against
/api/v1/schema/ once per token, bounded by --max-time each. Fails on any response >= 500,
any response that breaks the schema or any undocumented status code, and prints the
totals of each run.

Excluded, because they would end the run: logout (deletes the token in use) and DELETE
on tokens/{id}/ (may delete it too).

    python fuzz/run.py [--max-time 50] [--max-examples 30]
"""

import argparse
import collections
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project"
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"


ACCESS_LINE = re.compile(r'"[A-Z]+ \S+ HTTP/[0-9.]+" (\d{3}) ')


def status_counts(text):
    """Responses by status, from runserver's access log."""
    return collections.Counter(int(code) for code in ACCESS_LINE.findall(text))


def summary(statuses):
    shown = ", ".join(f"{code}: {count}" for code, count in sorted(statuses.items()))
    return f"{sum(statuses.values())} requests ({shown})"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_tokens():
    """The fixtures, written straight to the database before the server starts."""
    import django

    sys.path[:0] = [str(ROOT), str(EXAMPLE)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User
    from django_stepup.models import Token
    from django_stepup.policies import get_scope
    from django_stepup.policy_store import create_policy
    from dnsapi.models import Domain

    call_command("migrate", verbosity=0)
    now = timezone.now()

    def user_with_mfa(kind):
        # One user per token kind: a run that removes factors or revokes tokens (as the
        # promoted token may) leaves the other runs' users as they were.
        user = User.objects.create_user(email=f"{kind}@example.com", password="fuzz-password-1")
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        domain = Domain.objects.create(owner=user, name=f"{kind}.example", created=now, touched=now)
        domain.create_apex_ns(now)
        return user, domain

    user, _ = user_with_mfa("promoted")
    _, promoted = Token.objects.create_token(user, mfa=True, mfa_at=now, name="promoted")
    user, _ = user_with_mfa("unpromoted")
    _, unpromoted = Token.objects.create_token(user, mfa=False, name="unpromoted")
    user, domain = user_with_mfa("restricted")
    restricted, restricted_secret = Token.objects.create_token(user, name="restricted")
    scope = get_scope("rrsets")
    create_policy(restricted, scope, {"domain": None, "subname": None, "type": None})
    create_policy(
        restricted,
        scope,
        {"domain": domain.pk, "subname": "www", "type": "A"},
        perm_write=True,
    )
    return {"promoted": promoted, "unpromoted": unpromoted, "restricted": restricted_secret}


def wait_for(url, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # loopback only
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the example project did not answer at {url}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-time", type=int, default=50, help="seconds per token kind")
    parser.add_argument("--max-examples", type=int, default=30)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="stepup-fuzz-"))
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{workdir / 'fuzz.sqlite3'}",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "fuzz-only-secret-key-" + "x" * 40,
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SETTINGS_MODULE": "example_project.settings",
            # This checkout's django_stepup, in the server too, whatever is installed.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
    )
    tokens = make_tokens()
    log = workdir / "server.log"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=EXAMPLE,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "w"),  # noqa: SIM115 (closed with the process)
    )
    failed = []
    totals = {}
    try:
        wait_for(f"{base}/api/v1/schema/?format=json")
        schemathesis = Path(sys.executable).with_name("schemathesis")
        for kind, secret in tokens.items():
            print(f"\n==== schemathesis with the {kind} token ====", flush=True)
            command = [
                str(schemathesis),
                "run",
                f"{base}/api/v1/schema/?format=json",
                "--url",
                base,
                "--header",
                f"Authorization: Token {secret}",
                "--checks",
                CHECKS,
                "--max-examples",
                str(args.max_examples),
                "--max-time",
                str(args.max_time),
                "--exclude-path",
                "/api/v1/auth/logout/",
                "--exclude-operation-id",
                "auth_tokens_destroy",
                "--seed",
                "1",
                "--workers",
                "1",
            ]
            start = log.stat().st_size
            result = subprocess.run(command, check=False, timeout=args.max_time + 120, cwd=workdir)
            statuses = status_counts(log.read_text()[start:])
            totals[kind] = statuses
            print(f"==== {kind}: exit status {result.returncode}, {summary(statuses)} ====")
            if result.returncode != 0 or any(code >= 500 for code in statuses):
                failed.append(kind)
    finally:
        server.terminate()
        server.wait(timeout=10)
    errors = log.read_text().count("Traceback")
    print("\nTotals (requests the server answered, by status):")
    for kind, statuses in totals.items():
        print(f"  {kind}: {summary(statuses)}")
    print(f"server tracebacks: {errors}; failed token kinds: {failed or 'none'}")
    return 1 if failed or errors else 0


if __name__ == "__main__":
    sys.exit(main())
