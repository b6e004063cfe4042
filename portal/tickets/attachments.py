"""Uploaded files: checked by their content, stored outside the web root under random names."""

import io
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from portal.tickets.models import Attachment

# (content type, file signature) in the order they are tried.
SIGNATURES = [
    ("image/png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", b"\xff\xd8\xff"),
    ("image/gif", b"GIF87a"),
    ("image/gif", b"GIF89a"),
    ("application/pdf", b"%PDF-"),
    ("application/zip", b"PK\x03\x04"),
]
ZIP_MAX_ENTRIES = 1000
ZIP_MAX_UNPACKED = 200 * 1024 * 1024
ZIP_MAX_RATIO = 100


class UploadError(ValueError):
    """Why a file was refused: too_big, too_many, type, empty, archive."""

    def __init__(self, code: str, filename: str = ""):
        super().__init__(code)
        self.code, self.filename = code, filename


def safe_filename(name: str) -> str:
    """The file's own name without any path, control characters or NUL; never empty."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip(" .")[:200]
    return name or "file"


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "cp1251"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            if encoding == "utf-8" and exc.start > len(head) - 4:
                return True  # a character cut by the sample's end
    return False


def sniff(data: bytes) -> str | None:
    """The content type by what the bytes are, not by the name; None if not allowed."""
    for content_type, signature in SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if _is_text(data[:8192]):
        return "text/plain"
    return None


def check_archive(data: bytes) -> None:
    """Refuse zip bombs: too many entries, too much unpacked, or an absurd ratio."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise UploadError("archive") from None
    unpacked = sum(e.file_size for e in entries)
    packed = max(1, sum(e.compress_size for e in entries))
    if len(entries) > ZIP_MAX_ENTRIES or unpacked > ZIP_MAX_UNPACKED:
        raise UploadError("archive")
    if unpacked / packed > ZIP_MAX_RATIO:
        raise UploadError("archive")


@dataclass
class StoredUpload:
    """A checked file on disk, waiting to be attached to a message."""

    filename: str
    stored_name: str
    content_type: str
    size: int

    def path(self) -> Path:
        return storage_dir() / self.stored_name

    def attach(self, message, ticket) -> None:
        message.attachments.append(
            Attachment(
                ticket=ticket,
                filename=self.filename,
                stored_name=self.stored_name,
                content_type=self.content_type,
                size=self.size,
            )
        )

    def discard(self) -> None:
        self.path().unlink(missing_ok=True)


def storage_dir() -> Path:
    folder = current_app.config["PORTAL_INSTANCE_DIR"] / "attachments"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store(filename: str, data: bytes) -> StoredUpload:
    """Check one uploaded file and write it under a random name."""
    name = safe_filename(filename)
    limit = current_app.config["PORTAL_ATTACHMENT_MAX_MB"] * 1024 * 1024
    if not data:
        raise UploadError("empty", name)
    if len(data) > limit:
        raise UploadError("too_big", name)
    content_type = sniff(data)
    if content_type is None:
        raise UploadError("type", name)
    if content_type == "application/zip":
        check_archive(data)
    stored_name = secrets.token_hex(16)
    target = storage_dir() / stored_name
    staging = target.with_suffix(".part")
    staging.write_bytes(data)
    staging.rename(target)
    return StoredUpload(name, stored_name, content_type, len(data))
