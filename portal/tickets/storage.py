"""Where the bytes of attachments live: files on disk, the database, or S3-compatible storage.

Every store keeps a file under its random stored name and answers the same four
questions: put, chunks (read one piece at a time), exists and delete. The setting
`PORTAL_ATTACHMENT_STORE` chooses one when the application starts.
"""

import os
from collections.abc import Iterator
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, func, insert, select

from portal.config import ConfigError
from portal.extensions import db
from portal.tickets.models import AttachmentChunk

CHUNK_SIZE = 256 * 1024
STORES = ("files", "database", "s3")


class FileStore:
    """A folder: this host's instance folder, or a disk every host mounts."""

    kind = "files"

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def path(self, name: str) -> Path:
        return self.folder / name

    def put(self, name: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(name)
        staging = self.folder / f".{name}.{os.getpid()}.part"
        staging.write_bytes(data)
        staging.rename(target)  # whole or not at all

    def chunks(self, name: str) -> Iterator[bytes]:
        try:
            stream = self.path(name).open("rb")
        except FileNotFoundError:
            return
        with stream:
            while piece := stream.read(CHUNK_SIZE):
                yield piece

    def exists(self, name: str) -> bool:
        return self.path(name).is_file()

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)


class DatabaseStore:
    """The portal's own database, in pieces of `CHUNK_SIZE` bytes.

    A file is written in the session's transaction, so it is stored together with the
    row that refers to it, or not at all. It is read back one piece per query, each on
    a connection of its own, so a slow download holds neither the file nor a connection.
    """

    kind = "database"

    def put(self, name: str, data: bytes) -> None:
        view = memoryview(data)
        for n, start in enumerate(range(0, len(data), CHUNK_SIZE)):
            piece = bytes(view[start : start + CHUNK_SIZE])
            db.session.execute(insert(AttachmentChunk).values(stored_name=name, n=n, data=piece))

    def chunks(self, name: str) -> Iterator[bytes]:
        return self._read(db.engine, name)

    @staticmethod
    def _read(engine, name: str) -> Iterator[bytes]:
        query = select(AttachmentChunk.data).where(AttachmentChunk.stored_name == name)
        n = 0
        while True:
            with engine.connect() as conn:
                piece = conn.scalar(query.where(AttachmentChunk.n == n))
            if piece is None:
                return
            yield bytes(piece)
            n += 1

    def exists(self, name: str) -> bool:
        count = select(func.count()).where(AttachmentChunk.stored_name == name)
        return bool(db.session.scalar(count))

    def delete(self, name: str) -> None:
        db.session.execute(delete(AttachmentChunk).where(AttachmentChunk.stored_name == name))


class S3Store:
    """A bucket of an S3-compatible service; credentials come from boto3's own environment."""

    kind = "s3"

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None):
        try:
            import boto3  # optional: installed with the `s3` extra
            from botocore.exceptions import ClientError
        except ImportError:
            raise ConfigError(
                "PORTAL_ATTACHMENT_STORE is s3 but boto3 is not installed "
                "(pip install 'support-portal[s3]')"
            ) from None
        session = boto3.session.Session()
        if session.get_credentials() is None:
            raise ConfigError(
                "PORTAL_ATTACHMENT_STORE is s3 but boto3 finds no credentials "
                "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws/credentials or a role)"
            )
        self.bucket, self.prefix = bucket, prefix
        self.client = session.client("s3", endpoint_url=endpoint_url or None)
        self.client_error = ClientError

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def put(self, name: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.key(name), Body=data)

    def chunks(self, name: str) -> Iterator[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"]
        except self.client_error as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return
            raise
        with body:
            yield from body.iter_chunks(CHUNK_SIZE)

    def exists(self, name: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(name))
        except self.client_error as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return False
            raise
        return True

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(name))


def build_store(kind: str, config) -> FileStore | DatabaseStore | S3Store:
    """The store `kind` as the settings in `config` describe it; ConfigError if they cannot."""
    if kind == "files":
        return FileStore(Path(config["PORTAL_INSTANCE_DIR"]) / "attachments")
    if kind == "database":
        return DatabaseStore()
    if kind == "s3":
        if not config.get("PORTAL_S3_BUCKET"):
            raise ConfigError("PORTAL_ATTACHMENT_STORE is s3 but PORTAL_S3_BUCKET is not set")
        return S3Store(
            config["PORTAL_S3_BUCKET"],
            config.get("PORTAL_S3_PREFIX") or "",
            config.get("PORTAL_S3_ENDPOINT_URL"),
        )
    raise ConfigError(f"PORTAL_ATTACHMENT_STORE must be one of {', '.join(STORES)}, not {kind!r}")


def init_app(app) -> None:
    """Open the configured store once; a store that cannot work stops start-up."""
    app.extensions["attachment_store"] = build_store(
        app.config["PORTAL_ATTACHMENT_STORE"], app.config
    )


def current_store():
    return current_app.extensions["attachment_store"]


def copy_all(names, source, target) -> dict[str, int]:
    """Copy each named file that `target` lacks from `source`; safe to run again.

    Returns how many were copied, already there, and missing from the source.
    """
    counts = {"copied": 0, "present": 0, "missing": 0}
    for name in names:
        if target.exists(name):
            counts["present"] += 1
            continue
        data = b"".join(source.chunks(name))
        if not data:
            counts["missing"] += 1
            continue
        target.put(name, data)
        db.session.commit()  # a database target keeps each file as soon as it is copied
        counts["copied"] += 1
    return counts
