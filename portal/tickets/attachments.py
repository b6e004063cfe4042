"""Uploaded files: checked by their content, kept in the attachment store under random names."""

import io
import lzma
import re
import secrets
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from itertools import chain
from urllib.parse import quote

from flask import Response, abort, current_app, send_file

from portal.tickets.models import Attachment
from portal.tickets.storage import FileStore, current_store

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
ZIP_RATIO_FROM = 1024 * 1024  # small archives of repetitive logs may pack better than 1:100
ZIP_CHUNK = 64 * 1024
RFC5987_SAFE = "!#$&+-.^_`|~"  # attr-char besides letters and digits
# What a damaged, encrypted or exotic archive raises while its entries are read.
ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,
    NotImplementedError,
)


class UploadError(ValueError):
    """Why a file was refused: too_big, too_many, type, empty, archive.

    `filename` is the cleaned name people are shown, never empty.
    """

    def __init__(self, code: str, filename: str = ""):
        super().__init__(code)
        self.code, self.filename = code, safe_filename(filename)


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


def check_archive(data: bytes, name: str = "") -> None:
    """Refuse zip bombs by what the entries really unpack to, not what they declare.

    Every entry is inflated in chunks and counted; reading stops at the first limit
    passed: too many entries, too much unpacked in all, or an absurd packing ratio. An
    archive inside the archive is counted as a file, never opened.
    """
    budget = min(ZIP_MAX_UNPACKED, max(ZIP_RATIO_FROM, ZIP_MAX_RATIO * len(data)))
    unpacked = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > ZIP_MAX_ENTRIES:
                raise UploadError("archive", name)
            for entry in entries:
                if entry.is_dir():
                    continue
                with archive.open(entry) as stream:
                    while chunk := stream.read(ZIP_CHUNK):
                        unpacked += len(chunk)
                        if unpacked > budget:
                            raise UploadError("archive", name)
    except ARCHIVE_ERRORS:
        raise UploadError("archive", name) from None


@dataclass
class StoredUpload:
    """A checked file in the attachment store, waiting to be attached to a message."""

    filename: str
    stored_name: str
    content_type: str
    size: int

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
        current_store().delete(self.stored_name)


def store(filename: str, data: bytes) -> StoredUpload:
    """Check one uploaded file and keep it, whole, under a random name."""
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
        check_archive(data, name)
    stored_name = secrets.token_hex(16)
    current_store().put(stored_name, data)
    return StoredUpload(name, stored_name, content_type, len(data))


def send_stored(stored_name: str, filename: str, content_type: str, size: int) -> Response:
    """A stored file as a download, read from the store a piece at a time; 404 if it is gone."""
    files = current_store()
    if isinstance(files, FileStore):
        path = files.path(stored_name)
        if not path.is_file():
            abort(404)
        return send_file(path, mimetype=content_type, as_attachment=True, download_name=filename)
    pieces = files.chunks(stored_name)
    first = next(pieces, None)
    if first is None:
        abort(404)
    response = Response(chain([first], pieces), mimetype=content_type, direct_passthrough=True)
    response.content_length = size
    response.cache_control.no_cache = True
    response.headers.set("Content-Disposition", "attachment", **_download_names(filename))
    return response


def _download_names(filename: str) -> dict[str, str]:
    """The file name for Content-Disposition, with an ASCII fallback as send_file gives it."""
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
        return {
            "filename": simple or "file",
            "filename*": f"UTF-8''{quote(filename, safe=RFC5987_SAFE)}",
        }
    return {"filename": filename}
