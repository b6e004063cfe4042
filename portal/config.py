"""Configuration: every setting is a `PORTAL_*` name with a default.

Values come, last one winning, from the defaults below, an optional TOML file
(`instance/portal.toml` or the path in `PORTAL_CONFIG_FILE`), the environment,
and the mapping passed to `create_app(config)`.
"""

import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str
    kind: type = str


SETTINGS = [
    Setting(
        "PORTAL_SECRET_KEY",
        None,
        "Key that signs sessions and tokens. Required in production; "
        "without it a random key is generated once into instance/secret_key.",
    ),
    Setting(
        "PORTAL_DATABASE_URL",
        None,
        "SQLAlchemy database URL; default SQLite at "
        "instance/portal.db. PostgreSQL: postgresql+psycopg://user@host/db.",
    ),
    Setting("PORTAL_ARTICLES_DIR", "articles", "Folder of knowledge-base articles (Markdown)."),
    Setting("PORTAL_INDEX_DIR", "index", "Folder of the built search index."),
    Setting(
        "PORTAL_INSTANCE_DIR",
        "instance",
        "Folder for the SQLite database, the secret key and the local mail outbox.",
    ),
    Setting(
        "PORTAL_CONFIG_FILE",
        None,
        "TOML file with any of these settings; default instance/portal.toml if it exists.",
    ),
    Setting(
        "PORTAL_DEFAULT_LOCALE",
        "ru",
        "Interface language for visitors who have not chosen one (ru or en).",
    ),
    Setting("PORTAL_SEARCH_PAGE_SIZE", 10, "Search results per page.", int),
    Setting("PORTAL_INDEX_PROCS", 2, "Processes used by a full `portal index` build.", int),
    Setting(
        "PORTAL_REPLICA_POLL_SECONDS",
        0.5,
        "How often each process looks for article changes published in the database (saved "
        "on another host, imported by `portal index --changed`) and brings the host's "
        "articles folder and index up to them; 0 turns the follower off.",
        float,
    ),
    Setting(
        "PORTAL_REPLICA_REBUILD_AFTER",
        500,
        "A host behind by more changed articles than this rewrites its folder from the "
        "database and rebuilds its index instead of applying them one by one.",
        int,
    ),
    Setting(
        "PORTAL_LEARN_MIN_SESSIONS",
        3,
        "Distinct sessions that must lead to an article with the same words (a search "
        "followed by a helpful vote, a request ended by “This solved my problem”) before "
        "search learns the phrase.",
        int,
    ),
    Setting(
        "PORTAL_LEARN_MAX_PER_ARTICLE",
        20,
        "Most learned phrases active for one article; the best supported win.",
        int,
    ),
    Setting(
        "PORTAL_SEARCH_VECTORS",
        True,
        "Rank by meaning too, with the word vectors shipped in the natasha and wordllama "
        "packages (about 150 MB per process); false keeps the lexical signals alone.",
        bool,
    ),
    Setting(
        "PORTAL_BASE_URL",
        "http://127.0.0.1:5000",
        "Public address of the portal, for links in e-mails sent outside a web request. With "
        "https:// the cookies are marked Secure and HSTS is sent.",
    ),
    Setting(
        "PORTAL_REDIS_URL",
        None,
        "Redis for rate limits shared by every worker and host (e.g. redis://127.0.0.1:6379/0); "
        "without it each process counts alone, in memory.",
    ),
    Setting(
        "PORTAL_API_RATE_LIMIT",
        "300 per minute",
        "Requests one REST API token may make (Flask-Limiter notation, e.g. 1000 per hour).",
    ),
    Setting(
        "PORTAL_RATE_LIMITS",
        True,
        "Limit sign-in, sign-up, password reset, filing and the search APIs per client address.",
        bool,
    ),
    Setting(
        "PORTAL_EVENT_FLUSH_SECONDS",
        1.0,
        "Searches and article views are queued in each process and written in batches this "
        "often (seconds); 0 writes each one during its request.",
        float,
    ),
    Setting("PORTAL_TIMEZONE", "Europe/Moscow", "Time zone of support's business hours."),
    Setting(
        "PORTAL_BUSINESS_HOURS",
        "10:00-19:00",
        "Support's working hours on working days; "
        "several frames separated by commas, e.g. 10:00-13:00,14:00-19:00.",
    ),
    Setting(
        "PORTAL_SLA_HOURS",
        "partner=5,commercial=6,vip=2,noncommercial=24,consultation=40,special=1",
        "Response time limits in hours: per tier (business hours), "
        "consultation (business hours) and special requests (round the clock).",
    ),
    Setting(
        "PORTAL_DEVELOPMENT_DAYS",
        24,
        "Response limit, in calendar days, for requests handed to development.",
        int,
    ),
    Setting(
        "PORTAL_CATEGORIES_FILE",
        "portal/tickets/categories.yml",
        "Request categories and the extra fields each one asks for.",
    ),
    Setting(
        "PORTAL_SCOPE_RULES_FILE",
        "portal/scope_rules.yml",
        "Rules that decide what is out of support's scope or a consultation.",
    ),
    Setting("PORTAL_COUPON_REQUESTS", 15, "Special requests a new coupon holds.", int),
    Setting("PORTAL_COUPON_DAYS", 365, "Days a coupon is valid from issue.", int),
    Setting("PORTAL_ATTACHMENT_MAX_MB", 10, "Largest attachment, in megabytes.", int),
    Setting("PORTAL_ATTACHMENTS_PER_MESSAGE", 5, "Most files on one message.", int),
    Setting(
        "PORTAL_ATTACHMENT_STORE",
        "files",
        "Where attachments are kept: files (instance/attachments/, one host or a disk every "
        "host mounts), database (in the portal's database, in 256 KiB pieces) or s3 "
        "(S3-compatible object storage; needs the s3 extra and PORTAL_S3_BUCKET).",
    ),
    Setting("PORTAL_S3_BUCKET", None, "Bucket of the s3 attachment store."),
    Setting(
        "PORTAL_S3_ENDPOINT_URL",
        None,
        "Address of an S3-compatible service (MinIO, Ceph, a cloud's S3); none: AWS. "
        "Credentials and region come from boto3's usual environment (AWS_ACCESS_KEY_ID, "
        "AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION) or its files, never from these settings.",
    ),
    Setting(
        "PORTAL_S3_PREFIX",
        "attachments/",
        "Prefix of the object keys in the bucket, so that one bucket can serve several uses.",
    ),
    Setting(
        "PORTAL_REOPEN_DAYS",
        30,
        "Days after which a resolved or closed request can no "
        "longer be reopened (a new linked request is offered instead).",
        int,
    ),
    Setting("PORTAL_RESET_TOKEN_HOURS", 1, "Hours a password reset link works.", int),
    Setting(
        "PORTAL_MAIL_TRANSPORT",
        "file",
        "How `portal worker` delivers e-mail: file (.eml files in instance/outbox/) or smtp.",
    ),
    Setting(
        "PORTAL_MAIL_FROM", "Support portal <support@portal.local>", "Sender of notifications."
    ),
    Setting(
        "PORTAL_MAIL_REPLY_TO",
        "support@portal.local",
        "Support's mailbox: replies to "
        "notifications come back to its plus-address (support+<ticket token>@...) and "
        "`portal mail-in` reads it.",
    ),
    Setting(
        "PORTAL_IMAP_HOST", None, "IMAP server of support's mailbox, for `portal mail-in --imap`."
    ),
    Setting("PORTAL_IMAP_PORT", 993, "IMAP port (SSL).", int),
    Setting("PORTAL_IMAP_USER", None, "IMAP login."),
    Setting("PORTAL_IMAP_PASSWORD", None, "IMAP password."),
    Setting("PORTAL_IMAP_FOLDER", "INBOX", "IMAP folder to read."),
    Setting(
        "PORTAL_SUPPORT_PHONE",
        "+7 (495) 229-14-41",
        'Support\'s phone during business hours, shown beside every "Need more help?".',
    ),
    Setting(
        "PORTAL_SUPPORT_HOTLINE",
        "8-800-250-18-60",
        "Support's hotline for emergencies, answered round the clock.",
    ),
    Setting("PORTAL_MAIL_CATEGORY", "general", "Category of requests that arrive by e-mail."),
    Setting(
        "PORTAL_MAIL_AUTHSERV_ID",
        None,
        "authserv-id of the Authentication-Results header our own MTA adds to incoming mail. "
        "A bare [#number] subject tag attaches a letter to a ticket only if that header shows "
        "DMARC, or DKIM or SPF aligned with the From domain, passed; without it only the "
        "signed reply address does.",
    ),
    Setting("PORTAL_SMTP_HOST", "localhost", "SMTP server host."),
    Setting("PORTAL_SMTP_PORT", 25, "SMTP server port.", int),
    Setting("PORTAL_SMTP_USER", None, "SMTP login (none: no authentication)."),
    Setting("PORTAL_SMTP_PASSWORD", None, "SMTP password."),
    Setting("PORTAL_SMTP_STARTTLS", False, "Use STARTTLS with the SMTP server.", bool),
    Setting(
        "PORTAL_OUTBOX_LEASE_SECONDS",
        300,
        "How long a worker holds a claimed e-mail or webhook call before another worker may "
        "take it; a send must end within half of it.",
        int,
    ),
]
SETTING_NAMES = {s.name for s in SETTINGS}


class ConfigError(ValueError):
    """A setting with a value the portal cannot use."""


def _resolve(path: str | Path) -> Path:
    path = Path(path)
    return path if path.is_absolute() else PROJECT_ROOT / path


def _resolve_sqlite(url: str) -> str:
    """A SQLite file named by a relative path lives in the project folder, like the others."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return url
    path, _, query = url[len(prefix) :].partition("?")
    if not path or path == ":memory:" or Path(path).is_absolute():
        return url
    return f"{prefix}{_resolve(path)}" + (f"?{query}" if query else "")


def _coerce(setting: Setting, value):
    if value is None or setting.kind is str:
        return value
    if setting.kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{setting.name} must be true or false, not {value!r}")
    try:
        return setting.kind(value)
    except (TypeError, ValueError):
        kind = "a number" if setting.kind is float else "a whole number"
        raise ConfigError(f"{setting.name} must be {kind}, not {value!r}") from None


def load_settings(overrides: dict | None = None) -> dict:
    """All settings, resolved: defaults, then the TOML file, the environment, `overrides`."""
    overrides = dict(overrides or {})
    unknown = [k for k in overrides if k.startswith("PORTAL_") and k not in SETTING_NAMES]
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    values = {s.name: s.default for s in SETTINGS}
    env = {k: v for k, v in os.environ.items() if k in SETTING_NAMES}
    instance_dir = _resolve(
        overrides.get("PORTAL_INSTANCE_DIR") or env.get("PORTAL_INSTANCE_DIR") or "instance"
    )
    file_name = overrides.get("PORTAL_CONFIG_FILE") or env.get("PORTAL_CONFIG_FILE")
    config_file = _resolve(file_name) if file_name else instance_dir / "portal.toml"
    if config_file.exists():
        try:
            from_file = tomllib.loads(config_file.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_file}: {exc}") from None
        values.update({k: v for k, v in from_file.items() if k in SETTING_NAMES})
    elif file_name:
        raise ConfigError(f"PORTAL_CONFIG_FILE {config_file} does not exist")
    values.update(env)
    values.update(overrides)
    for setting in SETTINGS:
        values[setting.name] = _coerce(setting, values[setting.name])
    for name in (
        "PORTAL_ARTICLES_DIR",
        "PORTAL_INDEX_DIR",
        "PORTAL_INSTANCE_DIR",
        "PORTAL_CATEGORIES_FILE",
        "PORTAL_SCOPE_RULES_FILE",
    ):
        values[name] = _resolve(values[name])
    for name in ("PORTAL_CATEGORIES_FILE", "PORTAL_SCOPE_RULES_FILE"):
        if not values[name].is_file():
            raise ConfigError(f"{name}: {values[name]} does not exist")
    if not values["PORTAL_DATABASE_URL"]:
        values["PORTAL_DATABASE_URL"] = f"sqlite:///{values['PORTAL_INSTANCE_DIR'] / 'portal.db'}"
    values["PORTAL_DATABASE_URL"] = _resolve_sqlite(values["PORTAL_DATABASE_URL"])
    if values["PORTAL_DEFAULT_LOCALE"] not in ("ru", "en"):
        raise ConfigError("PORTAL_DEFAULT_LOCALE must be ru or en")
    if values["PORTAL_ATTACHMENT_STORE"] not in ("files", "database", "s3"):
        raise ConfigError("PORTAL_ATTACHMENT_STORE must be files, database or s3")
    if values["PORTAL_MAIL_TRANSPORT"] not in ("file", "smtp"):
        raise ConfigError("PORTAL_MAIL_TRANSPORT must be file or smtp")
    if not 0 <= values["PORTAL_EVENT_FLUSH_SECONDS"] <= 3600:
        raise ConfigError("PORTAL_EVENT_FLUSH_SECONDS must be between 0 and 3600")
    if not 2 <= values["PORTAL_OUTBOX_LEASE_SECONDS"] <= 86400:
        raise ConfigError("PORTAL_OUTBOX_LEASE_SECONDS must be between 2 and 86400")
    if not 0 <= values["PORTAL_REPLICA_POLL_SECONDS"] <= 3600:
        raise ConfigError("PORTAL_REPLICA_POLL_SECONDS must be between 0 and 3600")
    for name in (
        "PORTAL_REPLICA_REBUILD_AFTER",
        "PORTAL_LEARN_MIN_SESSIONS",
        "PORTAL_LEARN_MAX_PER_ARTICLE",
    ):
        if values[name] < 1:
            raise ConfigError(f"{name} must be at least 1")
    return values


def secret_key(values: dict) -> str:
    """The configured secret key, or one generated once for this instance folder."""
    if values.get("PORTAL_SECRET_KEY"):
        return values["PORTAL_SECRET_KEY"]
    path = values["PORTAL_INSTANCE_DIR"] / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".secret_key-{os.getpid()}")
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        try:
            os.link(staging, path)  # first writer wins; the others read its key
        except FileExistsError:
            pass
        finally:
            os.unlink(staging)
    return path.read_text().strip()
