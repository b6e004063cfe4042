"""Load test: 50 concurrent users for 60 s against gunicorn + PostgreSQL on 127.0.0.1.

Users search, get suggestions, file requests and reply (through the REST API). Afterwards
it checks that every filed request exists exactly once with a unique number and that
every confirmation e-mail is in the outbox. Prints a table per endpoint.

    .venv/bin/python bench/load.py [--users 50] [--seconds 60] [--workers 4]
    .venv/bin/python bench/load.py --hosts 1,2,3 [--users 50] [--seconds 60] [--workers 2]

With --hosts, each count is a separate run on N hosts (tests/hosts/cluster.py: a gunicorn
per host on its own loopback address, 127.0.0.2 and up, each with its own index), sharing
one new PostgreSQL database and the Redis of PORTAL_REDIS_URL if set; user i talks to
host i mod N. A last table compares throughput, p99 per endpoint and errors by host count.

Needs PostgreSQL on 127.0.0.1:5432 (trust auth); it creates and drops its own database.
Traffic goes only to loopback addresses.
"""

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ENDPOINTS = ("search", "suggest", "file request", "reply")

from throughput import cpu_seconds, worker_pids  # noqa: E402  (beside this file)

from portal import create_app  # noqa: E402
from portal.accounts.models import Organisation, User  # noqa: E402
from portal.api_v1.services import issue_token  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.migrations import upgrade  # noqa: E402
from portal.outbox.models import OutboxMessage  # noqa: E402
from portal.tickets.models import Message, Ticket  # noqa: E402
from tests.hosts.cluster import Cluster, throwaway_database  # noqa: E402

QUERIES = [
    "пароль",
    "двухфакторная авторизация",
    "почта не приходит",
    "сделка воронка",
    "импорт csv",
    "звонок сбрасывается",
    "купон",
    "резервная копия",
    "тариф оплата",
    "mobile app push",
    "invite users",
    "как подать обращение",
    "SIP",
    "бэкап",
    "права доступа",
    "two-factor",
    "mailbox imap",
    "лид конвертация",
]
TITLES = [
    "Не приходят письма",
    "Ошибка при импорте",
    "Не работает телефония",
    "Вопрос по сделкам",
    "Не приходит код 2FA",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive HTTP connection to the server under test."""

    def __init__(self, port: int, token: str, address: str = "127.0.0.1"):
        self.conn = http.client.HTTPConnection(address, port, timeout=30)
        self.token = token

    def request(self, method: str, path: str, body=None) -> tuple[int, dict | None]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            return 599, None
        try:
            return response.status, json.loads(payload) if payload else None
        except ValueError:
            return response.status, None


def seed(database_url: str, instance: Path, users: int) -> list[str]:
    app = create_app(
        {
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_INSTANCE_DIR": str(instance),
            "PORTAL_SECRET_KEY": "load-test",
        }
    )
    tokens = []
    with app.app_context():
        org = Organisation(name="Load test", tier="commercial")
        db.session.add(org)
        db.session.flush()
        for i in range(users):
            user = User(
                email=f"load{i}@example.com",
                name=f"Load {i}",
                role="customer",
                organisation_id=org.id,
            )
            user.set_password("load-test-password")
            db.session.add(user)
            db.session.flush()
            tokens.append(issue_token(user, "load test")[1])
        db.session.commit()
        db.engine.dispose()
    return tokens


class Load:
    """What the users did: timings and errors per endpoint, numbers filed, replies stored."""

    def __init__(self):
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.created: list[str] = []
        self.replies = 0
        self.wall = 0.0
        self.lock = threading.Lock()

    def p99(self, name: str) -> float | None:
        values = sorted(self.timings[name])
        return values[min(len(values) - 1, int(0.99 * len(values)))] if values else None

    def total(self) -> int:
        return sum(len(values) for values in self.timings.values())


def drive(servers: list[tuple[str, int]], tokens: list[str], seconds: int) -> Load:
    """Run one user per token for `seconds`; user i talks to server i mod len(servers)."""
    load = Load()
    deadline = time.monotonic() + seconds

    def user_loop(token: str, seed_value: int) -> None:
        rng = random.Random(seed_value)
        address, port = servers[seed_value % len(servers)]
        client = Client(port, token, address)
        mine: list[str] = []
        while time.monotonic() < deadline:
            roll = rng.random()
            q = rng.choice(QUERIES)
            if roll < 0.4:
                name, method, path, body = (
                    "search",
                    "GET",
                    "/api/search?" + urllib.parse.urlencode({"q": q}),
                    None,
                )
            elif roll < 0.7:
                typed = q[: max(3, int(len(q) * rng.uniform(0.5, 1)))]
                name, method, path, body = (
                    "suggest",
                    "GET",
                    "/api/suggest?" + urllib.parse.urlencode({"q": typed}),
                    None,
                )
            elif roll < 0.85 or not mine:
                name, method, path = "file request", "POST", "/api/v1/tickets"
                body = {
                    "title": rng.choice(TITLES),
                    "category": "general",
                    "description": f"Проблема: {q}. Подробности для проверки нагрузки.",
                }
            else:
                name, method = "reply", "POST"
                path = f"/api/v1/tickets/{rng.choice(mine)}/replies"
                body = {"body": f"Дополнение: {q}"}
            started = time.perf_counter()
            status, payload = client.request(method, path, body)
            elapsed = (time.perf_counter() - started) * 1000
            with load.lock:
                load.timings[name].append(elapsed)
                if status >= 300:
                    load.errors[name] += 1
                elif name == "file request":
                    load.created.append(payload["number"])
                elif name == "reply":
                    load.replies += 1
            if name == "file request" and status < 300:
                mine.append(payload["number"])

    threads = [
        threading.Thread(target=user_loop, args=(token, i)) for i, token in enumerate(tokens)
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    load.wall = time.monotonic() - started
    return load


def print_table(load: Load) -> None:
    print("| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in ENDPOINTS:
        values = sorted(load.timings[name])
        if not values:
            continue

        def pct(p, values=values):
            return values[min(len(values) - 1, int(p / 100 * len(values)))]

        print(
            f"| {name} | {len(values)} | {len(values) / load.wall:.1f} | "
            f"{statistics.median(values):.1f} | {pct(95):.1f} | {pct(99):.1f} | "
            f"{load.errors[name]} |"
        )
    total = load.total()
    print(f"| all | {total} | {total / load.wall:.1f} | | | | {sum(load.errors.values())} |")


def check(database_url: str, load: Load) -> bool:
    """Every filed request exists once with a unique number, its e-mail and its replies."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        numbers = conn.execute(select(Ticket.number)).scalars().all()
        created_mail = conn.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "ticket_created")
        ).scalar()
        messages = conn.execute(select(func.count()).select_from(Message)).scalar()
    engine.dispose()
    checks = {
        "every filed request exists once": sorted(numbers) == sorted(load.created),
        "numbers are unique": len(numbers) == len(set(numbers)),
        "a confirmation e-mail per request": created_mail == len(load.created),
        "every reply stored": messages == len(load.created) + load.replies,
    }
    print()
    for label, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {label}")
    return all(checks.values())


def run(users: int, seconds: int, workers: int) -> int:
    admin = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    name = f"portal_load_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    database_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    instance = Path(tempfile.mkdtemp(prefix="portal-load-"))
    server = None
    try:
        upgrade(database_url)
        tokens = seed(database_url, instance, users)
        port = free_port()
        env = {
            **os.environ,
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_SECRET_KEY": "load-test",
            "PORTAL_INSTANCE_DIR": str(instance),
            "PORTAL_RATE_LIMITS": "false",
        }
        server = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "--workers",
                str(workers),
                "--threads",
                "4",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        pids = [server.pid, *worker_pids(server.pid)]
        cpu_before = cpu_seconds(pids)
        load = drive([("127.0.0.1", port)], tokens, seconds)
        cpu_used = cpu_seconds(pids) - cpu_before
        print(f"{users} users, {seconds} s, gunicorn {workers} workers x 4 threads, PostgreSQL\n")
        print_table(load)
        print(
            f"\nserver CPU: {cpu_used:.1f} s in {load.wall:.1f} s, "
            f"{1000 * cpu_used / max(load.total(), 1):.2f} ms per request (the mix above)"
        )
        ok = check(database_url, load)
        return 0 if ok and not sum(load.errors.values()) else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def run_hosts(count: int, users: int, seconds: int, workers: int) -> tuple[Load, bool]:
    """One run on `count` hosts sharing a new database (and PORTAL_REDIS_URL's Redis)."""
    root = Path(tempfile.mkdtemp(prefix="portal-load-hosts-"))
    redis_url = os.environ.get("PORTAL_REDIS_URL") or None
    with throwaway_database(SERVER_URL, prefix="portal_load") as database_url:
        (root / "seed").mkdir()
        tokens = seed(database_url, root / "seed", users)
        cluster = Cluster(
            root,
            database_url,
            hosts=count,
            redis_url=redis_url,
            worker=False,
            web_workers=workers,
            web_threads=4,
            env={"PORTAL_RATE_LIMITS": "false", "PORTAL_SEARCH_VECTORS": "true"},
        )
        with cluster:
            load = drive([(host.address, host.port) for host in cluster.hosts], tokens, seconds)
        print(
            f"\n{count} host(s), {users} users, {seconds} s, gunicorn {workers} workers x 4 "
            f"threads per host, PostgreSQL{', Redis' if redis_url else ''}\n"
        )
        print_table(load)
        ok = check(database_url, load)
    return load, ok


def run_several(counts: list[int], users: int, seconds: int, workers: int) -> int:
    results = [(count, *run_hosts(count, users, seconds, workers)) for count in counts]
    header = ["hosts", "req/s", *(f"{name} p99 ms" for name in ENDPOINTS), "errors"]
    print("\n| " + " | ".join(header) + " |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for count, load, _ in results:
        p99s = [load.p99(name) for name in ENDPOINTS]
        cells = " | ".join("-" if p is None else f"{p:.1f}" for p in p99s)
        print(
            f"| {count} | {load.total() / load.wall:.1f} | {cells} | {sum(load.errors.values())} |"
        )
    ok = all(ok and not sum(load.errors.values()) for _, load, ok in results)
    return 0 if ok else 1


def host_counts(value: str) -> list[int]:
    try:
        counts = [int(part) for part in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("host counts like 3 or 1,2,3") from None
    if not all(1 <= count <= 3 for count in counts):
        raise argparse.ArgumentTypeError("1 to 3 hosts")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument(
        "--workers", type=int, default=None, help="per host (4 alone, 2 with --hosts)"
    )
    parser.add_argument("--hosts", type=host_counts, default=None, help="e.g. 3 or 1,2,3")
    args = parser.parse_args()
    if args.hosts is None:
        sys.exit(run(args.users, args.seconds, args.workers or 4))
    sys.exit(run_several(args.hosts, args.users, args.seconds, args.workers or 2))


if __name__ == "__main__":
    main()
