"""Several hosts of the portal on one machine, sharing one PostgreSQL and one Redis.

A host is what a production host runs: gunicorn (`wsgi:app`) and, unless asked not to,
`portal worker`, each in its own process group, with the host's own instance folder,
search index and copy of `articles/`. Each host listens on its own loopback address
(127.0.0.2, 127.0.0.3, ...) on a free port. Used by tests/hosts/ and bench/load.py.

    with throwaway_database(server_url) as url, Cluster(tmp, url, hosts=3) as cluster:
        account = cluster.account()
        cluster.hosts[0].api(account.token).post("/api/v1/tickets", json={...})
        cluster.hosts[1].signed_in(cluster.account("editor")).get("/editor/")
        cluster.hosts[0].kill()        # SIGKILL its gunicorn and its worker
"""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, make_url, text

from portal import create_app
from portal.accounts.models import Organisation, User
from portal.api_v1.services import issue_token
from portal.clock import utcnow
from portal.extensions import db
from portal.kb.indexing import build_index
from portal.migrations import upgrade

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ADDRESSES = ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
SECRET_KEY = "several-hosts-secret"
PASSWORD = "several-hosts-password"
CSRF_INPUT = r'name="csrf_token"[^>]*value="([^"]+)"'


class HostError(RuntimeError):
    """A host that did not come up, with the end of its logs."""


def free_port(address: str = "127.0.0.1") -> int:
    """A port nothing listens on at `address` (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


def eventually(check, within: float, every: float = 0.1):
    """Call `check` until it returns something true or `within` seconds pass; its last value.

    For assertions about what spreads between hosts ("found by search on B within 2 s").
    """
    deadline = time.monotonic() + within
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(every)
    return value


@contextmanager
def throwaway_database(server_url: str, prefix: str = "portal_hosts"):
    """A new, migrated PostgreSQL database on the server of `server_url`; dropped after."""
    url = make_url(server_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        database_url = url.set(database=name).render_as_string(hide_password=False)
        upgrade(database_url)
        yield database_url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Account:
    """A user made for the test: sign in with email and password, or use the API token."""

    email: str
    password: str
    token: str
    role: str


class HostSession(requests.Session):
    """A requests session whose paths ("/api/v1/tickets") go to one host."""

    def __init__(self, base_url: str, timeout: float = 30):
        super().__init__()
        self.base_url, self.timeout = base_url, timeout

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(
            method, self.base_url + url if url[:1] == "/" else url, *args, **kwargs
        )


@dataclass
class Host:
    """One host: its address, its environment, its processes and helpers to talk to it."""

    name: str
    address: str
    port: int
    root: Path
    env: dict[str, str]
    web_workers: int = 2
    web_threads: int = 1
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"

    def start(self, worker: bool = True) -> None:
        """Start gunicorn and (with `worker`) `portal worker`; `wait_ready` waits for them."""
        bind = f"{self.address}:{self.port}"
        self._spawn(
            "web",
            [
                BIN / "gunicorn",
                "--workers",
                str(self.web_workers),
                "--threads",
                str(self.web_threads),
                "--bind",
                bind,
                "--log-level",
                "warning",
                "wsgi:app",
            ],
        )
        if worker:
            self._spawn("worker", [BIN / "portal", "worker", "--interval", "0.5"])

    def _spawn(self, name: str, argv: list) -> None:
        with open(self.root / f"{name}.log", "ab") as log:
            self.processes[name] = subprocess.Popen(
                [str(arg) for arg in argv],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() reaches every worker
            )

    def wait_ready(self, timeout: float = 90) -> None:
        """Wait until /readyz answers 200; HostError with the logs if a process died first."""
        deadline, last = time.monotonic() + timeout, "no answer"
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise HostError(
                        f"{self.name}: {name} exited ({process.returncode})\n{self.logs()}"
                    )
            try:
                answer = requests.get(self.url + "/readyz", timeout=5)
                if answer.status_code == 200:
                    return
                last = f"{answer.status_code} {answer.text[:300]}"
            except requests.RequestException as exc:
                last = str(exc)
            time.sleep(0.2)
        raise HostError(f"{self.name} not ready after {timeout} s: {last}\n{self.logs()}")

    def kill(self, *names: str) -> None:
        """SIGKILL the host's processes (all, or those named: "web", "worker")."""
        for name in names or list(self.processes):
            process = self.processes.pop(name, None)
            if process is not None:
                _signal_group(process, signal.SIGKILL)
                process.wait()

    def stop(self) -> None:
        """Stop the host gently (SIGTERM), then by force after 10 s."""
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        for name, process in list(self.processes.items()):
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            self.kill(name)

    def logs(self, lines: int = 30) -> str:
        parts = []
        for log in sorted(self.root.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {self.name} {log.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    def session(self) -> HostSession:
        """An anonymous visitor's session with this host."""
        return HostSession(self.url)

    def api(self, token: str) -> HostSession:
        """A REST API client of this host with the token's Authorization header."""
        session = self.session()
        session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
        return session

    def carrying(self, other: requests.Session) -> HostSession:
        """A session of this host holding the cookies another host gave `other`."""
        session = self.session()
        for cookie in other.cookies:
            session.cookies.set(cookie.name, cookie.value, domain=self.address, path=cookie.path)
        return session

    def signed_in(self, account: Account) -> HostSession:
        """A browser session of this host, signed in through the real form."""
        session = self.session()
        page = session.get("/signin")
        token = re.search(CSRF_INPUT, page.text).group(1)
        answer = session.post(
            "/signin",
            allow_redirects=False,
            data={"csrf_token": token, "email": account.email, "password": account.password},
        )
        if answer.status_code != 302:
            raise HostError(
                f"{self.name}: signing in {account.email} answered {answer.status_code}"
            )
        return session


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


class Cluster:
    """N hosts on one database and one Redis; `start()` returns when every /readyz is 200.

    `env` goes to every host, `host_env[i]` to host i only (e.g. its SMTP port). The
    environment a host gets is in `hosts[i].env`; nothing from the caller's PORTAL_*
    variables leaks in.
    """

    def __init__(
        self,
        root: Path,
        database_url: str,
        *,
        hosts: int = 3,
        redis_url: str | None = None,
        env: dict | None = None,
        host_env: list[dict] | None = None,
        worker: bool = True,
        web_workers: int = 2,
        web_threads: int = 1,
    ):
        if not 1 <= hosts <= len(ADDRESSES):
            raise ValueError(f"1 to {len(ADDRESSES)} hosts")
        self.root, self.database_url, self.redis_url = Path(root), database_url, redis_url
        self.worker = worker
        self._seq = 0
        self._app = None
        outside = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        shared = {
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_SECRET_KEY": SECRET_KEY,
            "PORTAL_SEARCH_VECTORS": "false",
            **({"PORTAL_REDIS_URL": redis_url} if redis_url else {}),
            **(env or {}),
        }
        self.hosts = []
        for i in range(hosts):
            address = ADDRESSES[i]
            port = free_port(address)
            home = self.root / f"host-{'abcd'[i]}"
            host_vars = {
                "PORTAL_INSTANCE_DIR": str(home / "instance"),
                "PORTAL_INDEX_DIR": str(home / "index"),
                "PORTAL_ARTICLES_DIR": str(home / "articles"),
                "PORTAL_BASE_URL": f"http://{address}:{port}",
            }
            merged = {**outside, **shared, **host_vars, **((host_env or [{}] * hosts)[i])}
            self.hosts.append(
                Host("ABCD"[i], address, port, home, merged, web_workers, web_threads)
            )

    def start(self) -> "Cluster":
        index = self.root / "index-built"
        if not index.exists():
            build_index(ROOT / "articles", index)
        for host in self.hosts:
            (host.root / "instance").mkdir(parents=True, exist_ok=True)
            shutil.copytree(ROOT / "articles", host.root / "articles", dirs_exist_ok=True)
            shutil.copytree(index, host.root / "index", symlinks=True, dirs_exist_ok=True)
        # As a deployment does once: publish the checkout's articles in the database.
        first = self.hosts[0]
        subprocess.run(
            [str(BIN / "portal"), "index", "--changed"],
            cwd=ROOT,
            env=first.env,
            check=True,
            capture_output=True,
        )
        try:
            for host in self.hosts:
                host.start(worker=self.worker)
            for host in self.hosts:
                host.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for host in self.hosts:
            host.stop()
        if self._app is not None:
            with self._app.app_context():
                db.engine.dispose()

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def app(self):
        """A Flask app on the shared database, to seed it and to read it in assertions."""
        if self._app is None:
            self._app = create_app(
                {
                    "PORTAL_DATABASE_URL": self.database_url,
                    "PORTAL_SECRET_KEY": SECRET_KEY,
                    "PORTAL_INSTANCE_DIR": str(self.root / "control"),
                    "PORTAL_SEARCH_VECTORS": False,
                }
            )
        return self._app

    def account(self, role: str = "customer", tier: str = "commercial") -> Account:
        """A new user of `role` (customers in their own organisation of `tier`), with a token."""
        self._seq += 1
        tag = f"{os.getpid()}-{self._seq}"
        with self.app.app_context():
            org = None
            if role == "customer":
                org = Organisation(name=f"Organisation {tag}", tier=tier)
                db.session.add(org)
                db.session.flush()
            user = User(
                email=f"{role}{tag}@example.com",
                name=f"{role.title()} {tag}",
                role=role,
                organisation_id=org.id if org else None,
                email_confirmed_at=utcnow(),
            )
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.flush()
            token = issue_token(user, "several hosts")[1]
            db.session.commit()
            return Account(user.email, PASSWORD, token, role)
