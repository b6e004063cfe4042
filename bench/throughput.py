"""Throughput per core, measured from outside: gunicorn serving the portal, `wrk` asking.

    .venv/bin/python bench/throughput.py [--workers 2] [--seconds 20] [--connections 8]
        [--endpoints suggest,search,article] [--articles DIR] [--profile]

Starts `gunicorn -w WORKERS` on a free port of 127.0.0.1 with a throwaway SQLite database
and the given knowledge base (the shipped articles by default; the index is built into a
temporary folder), then drives each endpoint with `wrk` (2 threads, CONNECTIONS
connections, SECONDS seconds; Debian's package `wrk`). Every request is different: the
paths cycle through the typed prefixes of real customers' questions in Russian and English
(the starter question sets and the articles' listed questions, cut every three letters:
about 12,400 paths, more than a 20-second run asks), so no cache answers for free. Rate
limits are off: one client asking hundreds of times a second would be refused otherwise.

Prints req/s, p50/p99 latency, errors and the CPU the server spent per request (from the
workers' /proc counters, so the load generator's own CPU is not counted). With
`--profile` it also records where the workers' time goes with py-spy into
`test-artifacts/profile-<endpoint>.txt` (collapsed stacks, the top functions printed).
"""

import argparse
import contextlib
import csv
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from portal.kb.articles import load_articles  # noqa: E402

QUESTION_SETS = [
    ROOT / "tests/data/deflection/starter-ru.csv",
    ROOT / "tests/data/deflection/starter-en.csv",
]
STEP = 3
MIN_PREFIX = 3

LUA = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local counter = 0
local thread_id = 0
function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end
function init(args)
  counter = id * 7919
end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d\\n",
    summary.requests, summary.duration, summary.errors.status + summary.errors.connect
      + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, summary.errors.status))
end
"""


def questions(articles: list) -> list[str]:
    """Real questions: the hand-written starter sets and the articles' listed questions."""
    found = []
    for path in QUESTION_SETS:
        with path.open(encoding="utf-8") as f:
            found += [row["text"] for row in csv.DictReader(f)]
    return found + [q for a in articles for q in a.questions]


def prefixes(texts: list[str], limit: int | None, seed: int = 5) -> list[str]:
    """What a reader has typed on the way to each question, every few letters."""
    seen: dict[str, None] = {}
    for text in texts:
        for end in range(MIN_PREFIX, len(text) + STEP, STEP):
            seen.setdefault(text[:end].rstrip(), None)
    found = list(seen)
    random.Random(seed).shuffle(found)
    return found[:limit]


def paths_for(endpoint: str, typed: list[str], slugs: list[str]) -> list[str]:
    if endpoint == "article":
        return [f"/kb/{slug}" for slug in slugs]
    route = {"suggest": "/api/suggest", "search": "/search", "api-search": "/api/search"}
    return [f"{route[endpoint]}?{urllib.parse.urlencode({'q': q})}" for q in typed]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def wait_until_up(port: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start")


def warm(port: int, paths: list[str]) -> None:
    """Each worker loads its models and index on its first requests: not measured."""
    for path in paths[:40]:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60).read()


def run_wrk(port: int, paths: list[str], seconds: int, connections: int, tmp: Path) -> dict:
    paths_file = tmp / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
    script = tmp / "cycle.lua"
    script.write_text(LUA % {"paths": paths_file}, encoding="utf-8")
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT"))
    requests, duration_us, errors, p50, p99, top, status_errors = map(int, line.split()[1:])
    return {
        "requests": requests,
        "rps": requests / (duration_us / 1e6),
        "errors": errors,
        "p50": p50 / 1000,
        "p99": p99 / 1000,
        "max": top / 1000,
    }


def profile(master: int, seconds: int, out: Path) -> subprocess.Popen:
    """py-spy sampling every worker of the server for `seconds`."""
    out.parent.mkdir(exist_ok=True)
    command = [str(BIN / "py-spy"), "record", "--format", "raw", "--rate", "200"]
    command += ["--duration", str(seconds), "--output", str(out), "--nonblocking"]
    command += ["--subprocesses", "--pid", str(master)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--endpoints", default="suggest,search,article")
    parser.add_argument("--articles", type=Path, default=ROOT / "articles")
    parser.add_argument("--prefixes", type=int, default=0, help="at most this many (0: all)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    tmp = Path(tempfile.mkdtemp(prefix="portal-throughput-"))
    env = {
        **os.environ,
        "PORTAL_ARTICLES_DIR": str(args.articles.resolve()),
        "PORTAL_INDEX_DIR": str(tmp / "index"),
        "PORTAL_INSTANCE_DIR": str(tmp / "instance"),
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp / 'portal.db'}",
        "PORTAL_SECRET_KEY": "bench",
        "PORTAL_RATE_LIMITS": "false",
    }
    env.pop("PORTAL_REDIS_URL", None)
    portal = str(BIN / "portal")
    subprocess.run([portal, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([portal, "index"], env=env, check=True, capture_output=True)
    articles = [a for a in load_articles(args.articles).articles if not a.draft]
    typed = prefixes(questions(articles), args.prefixes or None)
    slugs = [a.slug for a in articles]
    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--chdir",
            str(ROOT),
            "wsgi:app",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = []
    try:
        wait_until_up(port)
        for endpoint in args.endpoints.split(","):
            paths = paths_for(endpoint, typed, slugs)
            warm(port, paths)
            pids = worker_pids(server.pid)
            spy = (
                profile(server.pid, args.seconds, ROOT / f"test-artifacts/profile-{endpoint}.txt")
                if args.profile
                else None
            )
            before = cpu_seconds(pids)
            result = run_wrk(port, paths, args.seconds, args.connections, tmp)
            used = cpu_seconds(pids) - before
            if spy:
                spy.wait()
            result.update(
                endpoint=endpoint, paths=len(paths), cpu_ms=1000 * used / max(result["requests"], 1)
            )
            rows.append(result)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"gunicorn -w {args.workers}, wrk -t2 -c{args.connections} -d{args.seconds}s, "
        f"{os.cpu_count()} cores, rate limits off\n"
    )
    print(
        "| endpoint | distinct paths | requests | req/s | p50 ms | p99 ms | max ms "
        "| CPU ms/request | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['endpoint']} | {r['paths']} | {r['requests']} | {r['rps']:.0f} "
            f"| {r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | {r['cpu_ms']:.2f} "
            f"| {r['errors']} |"
        )
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
