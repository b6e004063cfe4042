"""Site-wide pages: language switch, contacting support, error pages."""

import datetime as dt
import re
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from portal.clock import aware
from portal.kb.forms import LanguageForm
from portal.kb.results import IndexMissing

bp = Blueprint("site", __name__)
LANG_COOKIE = "portal_lang"


def choose_locale() -> str:
    """The visitor's chosen language, else the configured default."""
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in ("ru", "en") else current_app.config["PORTAL_DEFAULT_LOCALE"]


@bp.app_context_processor
def locale_context() -> dict:
    return {"current_locale": str(get_locale())}


@bp.app_context_processor
def support_context() -> dict:
    """Support's channels and hours, shown beside every "Need more help?"."""
    config = current_app.config
    return {
        "support": {
            "phone": config["PORTAL_SUPPORT_PHONE"],
            "hotline": config["PORTAL_SUPPORT_HOTLINE"],
            "email": config["PORTAL_MAIL_REPLY_TO"],
            "hours": config["PORTAL_BUSINESS_HOURS"].replace("-", "–").replace(",", ", "),
        },
        "request_url": request_url,
    }


def request_url(title: str | None = None) -> str:
    """Where "Create a request" leads: the wizard with the question as its title."""
    title = (title or "").strip()[:200] or None
    return url_for("wizard.new", title=title)


@bp.get("/favicon.ico")
def favicon():
    """The icon for browsers and tools that ask for it at the root."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.get("/support")
def contact():
    question = request.args.get("q", "")[:200]
    return render_template("site/contact.html", question=question)


@bp.app_template_filter("when")
def when(value: dt.datetime | None, pattern: str = "EEE d MMM yyyy, HH:mm") -> str:
    """A moment in support's time zone, e.g. "пн 30 нояб. 2026, 10:00 МСК"."""
    if value is None:
        return ""
    text = format_datetime(aware(value), pattern)
    if "H" not in pattern:
        return text
    zone = current_app.config["PORTAL_TIMEZONE"]
    label = _("MSK") if zone == "Europe/Moscow" else zone
    return f"{text} {label}"


@bp.app_template_filter("filesize")
def filesize(size: int) -> str:
    """A file size people read: 812 B, 14.2 KB, 3.1 MB."""
    if size < 1024:
        return _("%(n)d B", n=size)
    if size < 1024 * 1024:
        return _("%(n).1f KB", n=size / 1024)
    return _("%(n).1f MB", n=size / 1024 / 1024)


@bp.app_template_filter("duration")
def duration(value: dt.timedelta | None) -> str:
    """Business time left, e.g. "3 h 05 min"; negative values read as overdue by that much."""
    if value is None:
        return ""
    minutes = int(abs(value).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    text = _("%(h)d h %(m)02d min", h=hours, m=minutes) if hours else _("%(m)d min", m=minutes)
    return _("overdue by %(time)s", time=text) if value < dt.timedelta(0) else text


# Browsers drop tabs and line breaks anywhere in a URL and trim spaces and control
# characters at its ends, so "/\t/evil.example" reaches them as "//evil.example".
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f]")
_DECODE_ROUNDS = 5


def _spellings(target: str) -> list[str] | None:
    """The target and each of its percent-decodings; None if it never stops decoding."""
    spellings = [target]
    for _round in range(_DECODE_ROUNDS):
        decoded = unquote(spellings[-1])
        if decoded == spellings[-1]:
            return spellings
        spellings.append(decoded)
    return None


def is_local_path(target: str | None) -> bool:
    """Whether a redirect target stays on this site: a path with one leading slash and
    no scheme or host in any spelling a browser might read it in."""
    if not target or len(target) > 2000 or "\r" in target or "\n" in target:
        return False
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    for spelling in _spellings(target) or [""]:
        cleaned = _INVISIBLE.sub("", spelling.replace("\\", "/"))
        if not cleaned.startswith("/") or cleaned.startswith("//"):
            return False
        parts = urlsplit(cleaned)
        if parts.scheme or parts.netloc:
            return False
    return True


def safe_next(target: str | None, default: str = "/") -> str:
    """The target if it is a local path (`is_local_path`), else `default`: the one check
    for every redirect whose target comes from the visitor."""
    return target if is_local_path(target) else default


@bp.route("/language", methods=["GET", "POST"])
def language():
    """Switch the interface language: a cookie, then back to the page.

    The header's switch asks with GET, so that pages a visitor only reads carry no session
    and no CSRF token; the choice changes nothing but the language of the pages shown to
    this browser. A POST (older pages, scripts) is checked for CSRF like every form.
    """
    if request.method == "GET":
        form = LanguageForm(request.args, meta={"csrf": False})
        valid = form.validate()
    else:
        form = LanguageForm()
        valid = form.validate_on_submit()
    response = redirect(safe_next(form.next.data))
    if valid:
        response.set_cookie(
            LANG_COOKIE, form.lang.data, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _error(status: int, title: str, message: str):
    if _wants_json():
        codes = {
            400: "bad_request",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            429: "rate_limited",
            503: "unavailable",
        }
        code = codes.get(status, "error")
        return jsonify(error={"code": code, "message": message}), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


@bp.app_errorhandler(404)
def not_found(_error_obj):
    return _error(
        404, _("Page not found"), _("There is no such page. Try searching the knowledge base.")
    )


@bp.app_errorhandler(405)
def method_not_allowed(_error_obj):
    return _error(405, _("Not allowed"), _("This address does not accept that kind of request."))


@bp.app_errorhandler(400)
def bad_request(_error_obj):
    return _error(
        400, _("Bad request"), _("The request could not be understood. Please try again.")
    )


@bp.app_errorhandler(413)
def too_large(_error_obj):
    limit = current_app.config["PORTAL_ATTACHMENT_MAX_MB"]
    return _error(
        413,
        _("Files too large"),
        _("Attachments may be up to %(mb)d MB each. Go back and attach smaller files.", mb=limit),
    )


@bp.app_errorhandler(429)
def too_many(_error_obj):
    return _error(
        429,
        _("Too many attempts"),
        _(
            "Too many requests from your address in a short time. Wait a minute and "
            "try again; nothing you typed is lost."
        ),
    )


@bp.app_errorhandler(CSRFError)
def csrf_failed(_error_obj):
    return _error(
        400,
        _("The form expired"),
        _(
            "The form expired or was sent from another page. "
            "Go back, reload the page and send it again."
        ),
    )


@bp.app_errorhandler(IndexMissing)
def index_missing(_error_obj):
    return _error(
        503,
        _("Knowledge base unavailable"),
        _("The search index has not been built yet. Please try again in a minute."),
    )


@bp.app_errorhandler(500)
def server_error(_error_obj):
    return _error(
        500,
        _("Something went wrong"),
        _("We could not complete your request. Please try again; nothing was lost."),
    )
