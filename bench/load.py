"""Load test: 50 concurrent users for 60 s against gunicorn + PostgreSQL on 127.0.0.1.

Users search, get suggestions, file requests and reply (through the REST API). Afterwards
it checks that every filed request exists exactly once with a unique number and that
every confirmation e-mail is in the outbox. Prints a table per endpoint.

    .venv/bin/python bench/load.py [--users 50] [--seconds 60] [--workers 4]

Needs PostgreSQL on 127.0.0.1:5432 (trust auth); it creates and drops its own database.
Traffic goes only to 127.0.0.1.
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

from portal import create_app  # noqa: E402
from portal.accounts.models import Organisation, User  # noqa: E402
from portal.api_v1.services import issue_token  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.migrations import upgrade  # noqa: E402
from portal.outbox.models import OutboxMessage  # noqa: E402
from portal.tickets.models import Message, Ticket  # noqa: E402

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

    def __init__(self, port: int, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
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


def run(users: int, seconds: int, workers: int) -> int:
    admin = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
    )
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
        timings: dict[str, list[float]] = defaultdict(list)
        errors: dict[str, int] = defaultdict(int)
        created: list[str] = []
        replies = [0]
        lock = threading.Lock()
        deadline = time.monotonic() + seconds

        def user_loop(token: str, seed_value: int) -> None:
            rng = random.Random(seed_value)
            client = Client(port, token)
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
                with lock:
                    timings[name].append(elapsed)
                    if status >= 300:
                        errors[name] += 1
                    elif name == "file request":
                        created.append(payload["number"])
                    elif name == "reply":
                        replies[0] += 1
                if name == "file request" and status < 300:
                    mine.append(payload["number"])

        threads = [threading.Thread(target=user_loop, args=(tokens[i], i)) for i in range(users)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - started
        print(f"{users} users, {seconds} s, gunicorn {workers} workers x 4 threads, PostgreSQL\n")
        print("| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | errors |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        total = 0
        for name in ("search", "suggest", "file request", "reply"):
            values = sorted(timings[name])
            total += len(values)
            if not values:
                continue

            def pct(p, values=values):
                return values[min(len(values) - 1, int(p / 100 * len(values)))]

            print(
                f"| {name} | {len(values)} | {len(values) / wall:.1f} | "
                f"{statistics.median(values):.1f} | {pct(95):.1f} | {pct(99):.1f} | "
                f"{errors[name]} |"
            )
        print(f"| all | {total} | {total / wall:.1f} | | | | {sum(errors.values())} |")
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
            "every filed request exists once": sorted(numbers) == sorted(created),
            "numbers are unique": len(numbers) == len(set(numbers)),
            "a confirmation e-mail per request": created_mail == len(created),
            "every reply stored": messages == len(created) + replies[0],
        }
        print()
        for label, ok in checks.items():
            print(f"{'ok  ' if ok else 'FAIL'} {label}")
        return 0 if all(checks.values()) and not sum(errors.values()) else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    sys.exit(run(args.users, args.seconds, args.workers))


if __name__ == "__main__":
    main()
