"""Attachments in each store: one host uploads and another downloads, a big file streams
back piece by piece, a request not filed leaves nothing, and `portal attachments move`."""

import io
import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.config import PROJECT_ROOT, ConfigError
from portal.extensions import db
from portal.mail.intake import receive
from portal.tickets.attachments import store
from portal.tickets.models import Attachment, AttachmentChunk
from portal.tickets.services import NewTicket, file_ticket
from portal.tickets.storage import CHUNK_SIZE, DatabaseStore, FileStore, build_store
from tests.factories import csrf_token, make_org, make_user, sign_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
OUT_OF_SCOPE = "Установите, пожалуйста, Битрикс24 на наш новый VPS сервер, доступы пришлём."


@pytest.fixture
def people(app):
    with app.app_context():
        org = make_org("commercial")
        customer = make_user(org=org, email="ivan@example.com")
        stranger = make_user(org=make_org("commercial"))
        ticket = file_ticket(
            NewTicket(
                author=customer,
                title="Отчёт не строится",
                description="Отчёт по сделкам падает с ошибкой.",
                category="general",
            )
        )
        return {"customer": customer, "stranger": stranger, "number": ticket.number}


@pytest.fixture
def host(kb_dirs, database_url, tmp_path, store_config):
    """Another application process on its own instance folder, sharing the database."""
    apps = []

    def start(name: str, kind: str):
        articles, index = kb_dirs
        apps.append(
            create_app(
                {
                    "PORTAL_DATABASE_URL": database_url,
                    "PORTAL_ARTICLES_DIR": str(articles),
                    "PORTAL_INDEX_DIR": str(index),
                    "PORTAL_INSTANCE_DIR": str(tmp_path / name),
                    "PORTAL_SECRET_KEY": "test-secret",
                    "PORTAL_RATE_LIMITS": False,
                    "PORTAL_SEARCH_VECTORS": False,
                    "PORTAL_EVENT_FLUSH_SECONDS": 0,
                    "TESTING": True,
                    **store_config(kind),
                }
            )
        )
        return apps[-1]

    yield start
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def reply_with_files(client, number, files):
    url = f"/requests/{number}"
    return client.post(
        f"{url}/reply",
        data={
            "csrf_token": csrf_token(client, url),
            "body": "Файлы во вложении.",
            "files": [(io.BytesIO(data), name) for name, data in files],
        },
        content_type="multipart/form-data",
    )


def download(client, attachment_id) -> tuple[int, bytes]:
    response = client.get(f"/attachments/{attachment_id}")
    try:
        return response.status_code, response.data
    finally:
        response.close()  # a file sent from disk stays open until then


def listing(files) -> set[str]:
    """What a store holds, whatever it is."""
    if isinstance(files, FileStore):
        return set(os.listdir(files.folder)) if files.folder.is_dir() else set()
    if isinstance(files, DatabaseStore):
        return set(db.session.scalars(select(AttachmentChunk.stored_name).distinct()))
    found = files.client.list_objects_v2(Bucket=files.bucket, Prefix=files.prefix)
    return {item["Key"] for item in found.get("Contents", [])}


@pytest.mark.parametrize("kind", ["database", "s3", "files"])
def test_a_file_uploaded_through_one_host_downloads_through_another(host, people, kind):
    host_a, host_b = host("a", kind), host("b", kind)
    data = PNG + os.urandom(1000)
    uploader = host_a.test_client()
    sign_in(uploader, people["customer"])
    answer = reply_with_files(uploader, people["number"], [("экран.png", data)])
    assert answer.status_code == 302
    with host_b.app_context():
        attachment = db.session.scalar(select(Attachment))
    reader = host_b.test_client()
    sign_in(reader, people["customer"])
    response = reader.get(f"/attachments/{attachment.id}")
    if kind == "files":  # each host's own folder: why the other stores exist
        assert response.status_code == 404
        return
    body = response.data
    response.close()
    assert response.status_code == 200 and body == data
    assert response.headers["Content-Type"] == "image/png"
    assert (
        "filename*=UTF-8''%D1%8D%D0%BA%D1%80%D0%B0%D0%BD.png"
        in (response.headers["Content-Disposition"])
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert listing(FileStore(Path(host_a.instance_path) / "attachments")) == set()
    stranger = host_b.test_client()
    sign_in(stranger, people["stranger"])
    assert stranger.get(f"/attachments/{attachment.id}").status_code == 404


def test_a_file_of_several_chunks_streams_back_piece_by_piece(
    app, client, people, attachment_store
):
    data = b"%PDF-1.4\n" + os.urandom(2 * CHUNK_SIZE + 1000)
    with app.app_context():
        new = NewTicket(
            author=db.session.merge(people["customer"]),
            title="Журнал",
            description="Журнал ошибок во вложении.",
            category="general",
            attachments=[store("log.pdf", data)],
        )
        file_ticket(new)
        attachment = db.session.scalar(select(Attachment))
        chunks = db.session.scalar(select(func.count()).select_from(AttachmentChunk))
    assert chunks == (3 if attachment_store.kind == "database" else 0)
    sign_in(client, people["customer"])
    response = client.get(f"/attachments/{attachment.id}", buffered=False)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(data)
    pieces = list(response.response)
    response.close()
    assert b"".join(pieces) == data
    assert all(len(piece) <= CHUNK_SIZE for piece in pieces)
    sign_in(client, people["stranger"])
    assert client.get(f"/attachments/{attachment.id}").status_code == 404
    if attachment_store.kind != "files":
        assert len(pieces) == 3


def test_a_reply_refused_for_one_bad_file_keeps_none_of_its_files(
    app, client, people, attachment_store
):
    with app.app_context():
        before = listing(attachment_store)
    sign_in(client, people["customer"])
    files = [("ok.txt", b"log line\n"), ("virus.exe", b"MZ\x90\x00\x03\x00\xff\xff")]
    response = reply_with_files(client, people["number"], files)
    assert response.status_code == 400 and "virus.exe" in response.get_data(as_text=True)
    with app.app_context():
        assert listing(attachment_store) == before
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def _letter(body: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = "ivan@example.com", "support@portal.local"
    message["Subject"] = "Скриншот"
    message.set_content(body)
    message.add_attachment(PNG, maintype="image", subtype="png", filename="screen.png")
    return bytes(message)


def test_mail_in_keeps_the_attachment_of_a_filed_letter_and_none_of_a_refused_one(
    app, client, people, attachment_store
):
    with app.app_context():
        before = listing(attachment_store)
        assert receive(_letter(OUT_OF_SCOPE)).action == "rejected"
        db.session.commit()
        assert listing(attachment_store) == before
        assert receive(_letter("Отчёт падает, скриншот во вложении.")).action == "created"
        attachment = db.session.scalar(select(Attachment))
    sign_in(client, people["customer"])
    assert download(client, attachment.id) == (200, PNG)


@pytest.mark.parametrize("target", ["database", "s3"])
def test_move_copies_every_attachment_once_and_the_new_store_serves_them(
    app, client, people, portal_cli, store_config, target
):
    with app.app_context():
        customer = db.session.merge(people["customer"])
        files = [store(f"log{i}.txt", f"строка {i}\n".encode()) for i in range(2)]
        new = NewTicket(
            author=customer,
            title="Логи",
            description="Логи во вложении.",
            category="general",
            attachments=files,
        )
        file_ticket(new)
    settings = store_config(target)
    saved = {name: app.config[name] for name in settings}
    app.config.update({k: v for k, v in settings.items() if k != "PORTAL_ATTACHMENT_STORE"})
    try:
        first = portal_cli("attachments", "move", "--to", target)
        assert first.exit_code == 0 and "2 copied" in first.output, first.output
        again = portal_cli("attachments", "move", "--to", target)
        assert "0 copied" in again.output and "2 already there" in again.output
        app.config.update(settings)
        app.extensions["attachment_store"] = build_store(target, app.config)
        sign_in(client, people["customer"])
        with app.app_context():
            ids = db.session.scalars(select(Attachment.id).order_by(Attachment.id)).all()
        assert [download(client, i) for i in ids] == [
            (200, "строка 0\n".encode()),
            (200, "строка 1\n".encode()),
        ]
    finally:
        app.config.update(saved)
        app.extensions["attachment_store"] = build_store(
            saved["PORTAL_ATTACHMENT_STORE"], app.config
        )


def test_a_store_that_cannot_work_stops_start_up_with_the_reason(
    tmp_path, database_url, monkeypatch
):
    base = {"PORTAL_INSTANCE_DIR": str(tmp_path), "PORTAL_DATABASE_URL": database_url}
    with pytest.raises(ConfigError, match="PORTAL_ATTACHMENT_STORE must be"):
        create_app({**base, "PORTAL_ATTACHMENT_STORE": "ftp"})
    with pytest.raises(ConfigError, match="PORTAL_S3_BUCKET is not set"):
        create_app({**base, "PORTAL_ATTACHMENT_STORE": "s3"})
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ConfigError, match="boto3 finds no credentials"):
        create_app({**base, "PORTAL_ATTACHMENT_STORE": "s3", "PORTAL_S3_BUCKET": "files"})
    monkeypatch.setitem(sys.modules, "boto3", None)  # as if the s3 extra were not installed
    with pytest.raises(ConfigError, match="boto3 is not installed"):
        create_app({**base, "PORTAL_ATTACHMENT_STORE": "s3", "PORTAL_S3_BUCKET": "files"})


def test_the_command_line_names_a_missing_bucket(tmp_path):
    env = {
        **os.environ,
        "PORTAL_INSTANCE_DIR": str(tmp_path),
        "PORTAL_ATTACHMENT_STORE": "s3",
    }
    env.pop("PORTAL_S3_BUCKET", None)
    done = subprocess.run(
        [sys.executable, "-m", "portal.cli", "attachments", "move", "--to", "database"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "Configuration error: PORTAL_ATTACHMENT_STORE is s3 but PORTAL_S3_BUCKET" in done.stderr
