"""Several hosts, one database: the published articles are the truth and each host's
articles folder and index follow them (two applications with their own folders, index and
instance folders, on the same database)."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal import create_app
from portal.cli import main
from portal.editor import revisions, services
from portal.editor.models import ArticleRevision
from portal.extensions import db
from portal.kb.indexing import build_index
from portal.kb.published import changes_since, latest_seq, next_seq, publish
from portal.kb.replica import applied_seq, follow_app, host_lock, start_follower
from portal.locks import LockBusy, job_lock
from tests.conftest import TEST_ARTICLES
from tests.factories import make_user

WORD = "гиперболоид"


def _host(database_url: str, root: Path, articles: bool = True, **settings):
    folder, index = root / "articles", root / "index"
    if articles:
        shutil.copytree(TEST_ARTICLES, folder)
        build_index(folder, index)
    else:
        folder.mkdir(parents=True)
    app = create_app(
        {
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_ARTICLES_DIR": str(folder),
            "PORTAL_INDEX_DIR": str(index),
            "PORTAL_INSTANCE_DIR": str(root / "instance"),
            "PORTAL_SECRET_KEY": "test-secret",
            "PORTAL_RATE_LIMITS": False,
            "TESTING": True,
            **settings,
        }
    )
    app.extensions["kb"].index.REFRESH_SECONDS = 0
    return app


def _cli(app, *args):
    return app.test_cli_runner().invoke(main, args=list(args))


def _close(app) -> None:
    follower = app.extensions.get("article_replica")
    if follower is not None:
        follower.stop()
        follower.join()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(database_url, tmp_path):
    """Host A, whose `portal index --changed` has imported its checkout."""
    app = _host(database_url, tmp_path / "a")
    assert _cli(app, "index", "--changed").exit_code == 0
    yield app
    _close(app)


@pytest.fixture
def host_b(app, database_url, tmp_path):
    hosts = []

    def make(articles: bool = True, **settings):
        hosts.append(_host(database_url, tmp_path / f"b{len(hosts)}", articles, **settings))
        return hosts[-1]

    yield make
    for host in hosts:
        _close(host)


def _edit(app, original: str, **changes):
    with app.app_context():
        article = services.find(original)
        values = services.ArticleDraft(
            title=article.title,
            slug=article.slug,
            lang=article.lang,
            category=article.category,
            summary=article.summary,
            tags=list(article.tags),
            questions=list(article.questions),
            translation_of=article.translation_of or "",
            draft=article.draft,
            body=article.body,
            updated=article.updated,
        )
        for key, value in changes.items():
            setattr(values, key, value)
        user = make_user("editor")
        return services.save(values, user, original_slug=original, base_hash=article.content_hash)


def _found(app, query: str) -> list[str]:
    response = app.test_client().get("/api/search", query_string={"q": query})
    return [r["slug"] for r in response.get_json()["results"]]


def test_an_edit_on_one_host_is_found_on_another_after_it_follows(app, host_b):
    b = host_b()
    _edit(app, "ustanovka-na-server", body=f"Сервер и {WORD} настраиваются вместе.")
    assert "ustanovka-na-server" in _found(app, WORD)
    assert "ustanovka-na-server" not in _found(b, WORD)
    behind = b.test_client().get("/readyz").get_json()["checks"]["articles"]
    assert behind["ok"] and behind["lag"] == behind["latest_seq"] - behind["applied_seq"] > 0
    report = follow_app(b)
    assert report.written == 1 and not report.rebuilt
    assert "ustanovka-na-server" in _found(b, WORD)
    path = b.config["PORTAL_ARTICLES_DIR"] / "support" / "server.ru.md"
    assert WORD in path.read_text("utf-8")
    assert follow_app(b) is None  # up to date: nothing to do
    assert b.test_client().get("/readyz").get_json()["checks"]["articles"]["lag"] == 0
    # the saving host already has the file: following writes nothing there
    assert follow_app(app).written == 0


def test_one_process_per_host_applies(app, host_b):
    b = host_b()
    index = b.config["PORTAL_INDEX_DIR"]
    _edit(app, "ustanovka-na-server", body=f"Сервер и {WORD}.")
    with host_lock(index) as held:  # another process of host B is applying
        assert held
        assert follow_app(b) is None
        assert "ustanovka-na-server" not in _found(b, WORD)
    assert follow_app(b).written == 1
    assert "ustanovka-na-server" in _found(b, WORD)


def test_with_the_thread_on_an_edit_arrives_within_two_seconds(app, host_b):
    b = host_b(PORTAL_REPLICA_POLL_SECONDS=0.2)
    start_follower(b)
    follow_app(b)  # caught up with the import
    _edit(app, "ustanovka-na-server", body=f"Сервер и {WORD} настраиваются вместе.")
    deadline = time.monotonic() + 2
    while "ustanovka-na-server" not in _found(b, WORD) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "ustanovka-na-server" in _found(b, WORD)


def test_a_rename_and_its_redirect_reach_the_other_host(app, host_b):
    b = host_b()
    _edit(app, "ustanovka-na-server", slug="server-installation")
    follow_app(b)
    root = b.config["PORTAL_ARTICLES_DIR"]
    assert (root / "support" / "server-installation.ru.md").exists()
    assert not (root / "support" / "server.ru.md").exists()
    old = b.test_client().get("/kb/ustanovka-na-server")
    assert old.status_code == 301 and old.headers["Location"] == "/kb/server-installation"
    assert b.test_client().get("/kb/server-installation").status_code == 200
    # the article linking to it was relinked in the same change
    assert "server-installation.ru.md" in (root / "support" / "filing.ru.md").read_text("utf-8")


def test_a_delete_reaches_the_other_host(app, host_b):
    b = host_b()
    assert b.test_client().get("/kb/ustanovka-na-server").status_code == 200
    with app.app_context():
        services.delete("ustanovka-na-server", make_user("editor"))
    follow_app(b)
    assert not (b.config["PORTAL_ARTICLES_DIR"] / "support" / "server.ru.md").exists()
    assert b.test_client().get("/kb/ustanovka-na-server").status_code == 404


def test_a_host_far_behind_rebuilds(app, host_b):
    b = host_b(PORTAL_REPLICA_REBUILD_AFTER=1)
    _edit(app, "ustanovka-na-server", body=f"Сервер и {WORD}.")
    _edit(app, "kak-podat-obrashchenie", summary="Как подать обращение в поддержку.")
    report = follow_app(b)
    assert report.rebuilt
    assert "ustanovka-na-server" in _found(b, WORD)
    with b.app_context():
        assert applied_seq(b.config["PORTAL_INDEX_DIR"]) == latest_seq(db.session)


def test_a_fresh_empty_host_fills_from_the_database(app, host_b):
    c = host_b(articles=False)
    report = follow_app(c)
    assert report.rebuilt
    ours, theirs = app.config["PORTAL_ARTICLES_DIR"], c.config["PORTAL_ARTICLES_DIR"]
    for path in ours.rglob("*.md"):
        rel = path.relative_to(ours)
        assert (theirs / rel).read_bytes() == path.read_bytes(), rel
    assert (theirs / "_categories.yml").read_bytes() == (ours / "_categories.yml").read_bytes()
    assert "ustanovka-na-server" in _found(c, "установка на сервер")


def test_export_writes_the_database_back_byte_for_byte(app, tmp_path):
    _edit(app, "ustanovka-na-server", body=f"Сервер и {WORD}.")
    target = tmp_path / "export"
    result = _cli(app, "articles", "export", "--to", str(target))
    assert result.exit_code == 0, result.output
    ours = app.config["PORTAL_ARTICLES_DIR"]
    exported = sorted(p.relative_to(target) for p in target.rglob("*") if p.is_file())
    assert exported == sorted(
        p.relative_to(ours) for p in ours.rglob("*") if p.is_file() and p.suffix in (".md", ".yml")
    )
    for rel in exported:
        assert (target / rel).read_bytes() == (ours / rel).read_bytes(), rel


def test_a_first_import_records_no_external_changes_and_a_second_nothing(app):
    with app.app_context():
        kinds = set(db.session.scalars(select(ArticleRevision.kind)))
        seq = latest_seq(db.session)
        count = len(db.session.scalars(select(ArticleRevision.id)).all())
    assert kinds == {"imported"}
    result = _cli(app, "index", "--changed")
    assert result.exit_code == 0 and "outside the editor" not in result.output
    with app.app_context():
        assert latest_seq(db.session) == seq
        assert len(db.session.scalars(select(ArticleRevision.id)).all()) == count


def test_a_lagging_host_does_not_import_its_older_files(app, host_b):
    b = host_b()
    _edit(app, "ustanovka-na-server", body=f"Сервер и {WORD}.")
    # host B has not followed yet: its older file is not an outside change
    assert _cli(b, "index", "--changed").exit_code == 0
    with b.app_context():
        latest = revisions.history("ustanovka-na-server")[0]
    assert latest.kind == "edited" and WORD in latest.content
    assert "ustanovka-na-server" in _found(b, WORD)


def test_a_fresh_host_with_a_newer_checkout_imports_it(app, host_b):
    b = host_b()
    path = b.config["PORTAL_ARTICLES_DIR"] / "support" / "server.ru.md"
    path.write_text(path.read_text("utf-8") + f"\nПро {WORD} из git.\n", encoding="utf-8")
    result = _cli(b, "index", "--changed")
    assert "1 article(s) changed outside the editor" in result.output
    follow_app(app)
    assert "ustanovka-na-server" in _found(app, WORD)


def test_a_file_removed_from_a_checkout_is_deleted_for_every_host(app, host_b):
    b = host_b()
    (app.config["PORTAL_ARTICLES_DIR"] / "support" / "server.ru.md").unlink()
    result = _cli(app, "index", "--changed")
    assert "1 article(s) changed outside the editor" in result.output
    with app.app_context():
        assert revisions.history("ustanovka-na-server")[0].kind == "deleted"
    follow_app(b)
    assert not (b.config["PORTAL_ARTICLES_DIR"] / "support" / "server.ru.md").exists()
    assert b.test_client().get("/kb/ustanovka-na-server").status_code == 404


def test_a_save_on_a_host_behind_is_refused_as_stale(app, host_b):
    b = host_b()
    with b.app_context():
        opened = services.find("ustanovka-na-server").content_hash  # opened on host B
    _edit(app, "ustanovka-na-server", body=f"Сервер и {WORD}.")  # saved meanwhile on A
    with b.app_context():
        article = services.find("ustanovka-na-server")
        values = services.ArticleDraft(
            title="Другой заголовок",
            slug=article.slug,
            lang=article.lang,
            category=article.category,
            summary=article.summary,
            body=article.body,
        )
        with pytest.raises(services.EditorError) as refused:
            services.save(values, make_user("editor"), "ustanovka-na-server", opened)
    assert refused.value.code == "stale" and WORD in refused.value.diff


def test_a_version_opened_on_one_host_saves_on_a_host_behind(app, host_b):
    b = host_b()
    _edit(app, "ustanovka-na-server", body=f"Сервер и {WORD}.")
    with app.app_context():
        opened = services.find("ustanovka-na-server")  # the newest, opened on host A
    values = services.ArticleDraft(
        title="Другой заголовок",
        slug=opened.slug,
        lang=opened.lang,
        category=opened.category,
        summary=opened.summary,
        tags=list(opened.tags),
        body=opened.body,
    )
    with b.app_context():  # saved through host B, which has not followed yet
        services.save(values, make_user("editor"), opened.slug, opened.content_hash)
    text = (b.config["PORTAL_ARTICLES_DIR"] / "support" / "server.ru.md").read_text("utf-8")
    assert "Другой заголовок" in text and WORD in text


def test_a_slug_given_on_another_host_is_taken(app, host_b):
    b = host_b()
    values = dict(title="Новая статья", slug="novaya-statya", lang="ru", category="support",
                  summary="Новая.", body="Текст новой статьи.")  # fmt: skip
    with app.app_context():
        services.save(services.ArticleDraft(**values), make_user("editor"))
    with b.app_context(), pytest.raises(services.EditorError) as refused:
        services.save(services.ArticleDraft(**values), make_user("editor"))
    assert refused.value.code == "slug_taken"


def test_the_follower_outlives_a_database_that_is_down(tmp_path, caplog):
    # Nothing listens on port 1 of this host: a database that is down.
    down = _host("postgresql+psycopg://postgres@127.0.0.1:1/portal", tmp_path / "down",
                 PORTAL_REPLICA_POLL_SECONDS=0.05)  # fmt: skip
    start_follower(down)
    try:
        with pytest.raises(OperationalError):
            follow_app(down)
        time.sleep(0.5)  # several polls, each failing
        assert down.extensions["article_replica"].is_alive()
        assert "cannot follow" in caplog.text
        articles = down.test_client().get("/readyz").get_json()["checks"]["articles"]
        assert articles == {"ok": False, "error": "OperationalError"}
    finally:
        _close(down)


def test_the_sequence_orders_commits_and_tolerates_gaps(app):
    with app.app_context():
        engine = db.engine
        start = latest_seq(db.session)
        with Session(engine) as session:  # a number taken and committed with no change
            next_seq(session)
            session.commit()
    seen: dict[str, int] = {}
    done = threading.Event()
    errors = []

    def writer(n: int) -> None:
        try:
            with Session(engine) as session:
                seq = next_seq(session)
                publish(session, f"test/w{n}.ru.md", f"text {n}", seq, f"w{n}")
                session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def follower() -> None:
        applied = start
        while True:
            last = done.is_set()
            with Session(engine) as session:
                for row in changes_since(session, applied):
                    seen[row.path] = row.seq
                    applied = max(applied, row.seq)
            if last:
                return

    reader = threading.Thread(target=follower)
    reader.start()
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(12)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    reader.join()
    assert not errors
    assert len(seen) == 12  # none skipped
    assert len(set(seen.values())) == 12 and min(seen.values()) > start + 1


def _holder(app, name: str) -> subprocess.Popen:
    code = (
        "import sys, time\n"
        "from portal import create_app\n"
        "from portal.locks import job_lock\n"
        "app = create_app({'PORTAL_DATABASE_URL': sys.argv[1], 'PORTAL_INSTANCE_DIR': sys.argv[2],"
        " 'PORTAL_ARTICLES_DIR': sys.argv[3], 'PORTAL_INDEX_DIR': sys.argv[4],"
        " 'PORTAL_SECRET_KEY': 'x'})\n"
        "with app.app_context(), job_lock(sys.argv[5]):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(60)\n"
    )
    config = app.config
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            config["PORTAL_DATABASE_URL"],
            str(config["PORTAL_INSTANCE_DIR"]),
            str(config["PORTAL_ARTICLES_DIR"]),
            str(config["PORTAL_INDEX_DIR"]),
            name,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PORTAL_REPLICA_POLL_SECONDS": "0"},
    )


def _busy(name: str) -> bool:
    try:
        with job_lock(name, wait=False):
            return False
    except LockBusy:
        return True


def test_a_job_lock_excludes_a_second_holder_and_frees_when_its_process_dies(app):
    with app.app_context():
        with job_lock("test-job"):
            assert _busy("test-job")
        assert not _busy("test-job")  # released on exit
    holder = _holder(app, "test-job")
    try:
        assert holder.stdout.readline().strip() == "held"
        with app.app_context():
            assert _busy("test-job")
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        with app.app_context(), job_lock("test-job"):
            pass  # waits until the database notices the death, if it has not yet
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        holder.stdout.close()
