"""The processes deploy-check starts itself, on loopback ports it picks, and stops again.

Each service is a context manager; leaving it stops exactly what it started (by pid),
never a server that was running before.
"""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANAGE = ROOT / "example_project" / "manage.py"
MACHINE_POSTGRES = "postgres://postgres@127.0.0.1:5432"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(ready, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout} s")


def stop(process, timeout=10):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Redis:
    """A private redis-server; :meth:`stop` and :meth:`start` again keep its port."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")

    def start(self):
        self.process = subprocess.Popen(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""),
                *("--appendonly", "no", "--maxmemory-policy", "noeviction"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.ping, "redis-server")

    def stop(self):
        stop(self.process)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def ensure_machine_postgres():
    """The machine's PostgreSQL on 5432, started as .ci/run does when it is down."""
    if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0:
        return
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False
    )
    wait_for(
        lambda: (
            subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0
        ),
        "PostgreSQL on 5432",
    )


class Database:
    """A fresh database on the machine's PostgreSQL, dropped on exit."""

    def __init__(self):
        self.name = f"stepup_deploycheck_{secrets.token_hex(4)}"
        self.url = f"{MACHINE_POSTGRES}/{self.name}"

    def __enter__(self):
        ensure_machine_postgres()
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", self.name], check=True)
        return self

    def __exit__(self, *exc):
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--force", "--if-exists", self.name],
            check=False,
        )


def postgres_bin():
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (initdb into a temp dir) that a scenario may restart."""

    def __init__(self):
        self.port = free_port()
        self.bin = postgres_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="stepup-deploycheck-pg-"))
        self.data = self.dir / "data"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, *args):
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb refuses root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=True)

    def start(self):
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "start")

    def stop(self):
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def __enter__(self):
        if self.bin is None:
            raise RuntimeError("no /usr/lib/postgresql/*/bin/initdb")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.dir}'\nfsync = off\n"
            )
        self.start()
        return self

    def __exit__(self, *exc):
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def example_environment(database_url, cache_url, **extra):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "CACHE_URL", "STEPUP_"))
    }
    environment.update(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": database_url,
            "CACHE_URL": cache_url,
            "EXAMPLE_DRF_TOKEN_TWIN": "1",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            **extra,
        }
    )
    return environment


def manage(environment, *args):
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )


class Gunicorn:
    """gunicorn with sync workers serving the example project."""

    def __init__(self, environment, workers=4, keep_log_with_errors=True):
        self.environment = environment
        self.keep_log_with_errors = keep_log_with_errors
        self.workers = workers
        self.port = free_port()
        # Kept open for the server's lifetime; closed (and removed if clean) in __exit__.
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="stepup-deploycheck-gunicorn-", delete=False
        )

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "example_project.wsgi:application"),
                *("--chdir", str(MANAGE.parent), "--bind", f"127.0.0.1:{self.port}"),
                *("--workers", str(self.workers), "--worker-class", "sync", "--timeout", "60"),
            ],
            env=self.environment,
            stdout=self.log,
            stderr=self.log,
        )
        wait_for(
            lambda: urllib.request.urlopen(f"{self.url}/api/v1/health/", timeout=2).status == 200,
            "gunicorn",
            timeout=60,
        )
        return self

    def __exit__(self, *exc):
        stop(self.process, timeout=20)
        self.log.close()
        if self.keep_log_with_errors and self.errors():
            print(f"deploy-check: gunicorn's log is kept in {self.log.name}", flush=True)
        else:
            os.unlink(self.log.name)

    def errors(self):
        """Tracebacks the workers logged (server errors go to stderr)."""
        return Path(self.log.name).read_text(errors="replace").count("Traceback")
