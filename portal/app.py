"""The application factory: configuration, extensions, event subscribers, blueprints."""

from flask import Flask

from portal import security
from portal.config import PROJECT_ROOT, ConfigError, load_settings, secret_key
from portal.extensions import babel, csrf, db, limiter, login_manager
from portal.jsonbody import GuardedJSONProvider, PortalRequest
from portal.params import IdConverter

SEARCH_PAGE_RATE_LIMIT = "120 per minute"  # the same budget as /api/search


def create_app(config: dict | None = None) -> Flask:
    """Build the application from `PORTAL_*` settings, overridden by `config`."""
    settings = load_settings(config)
    app = Flask(
        __name__,
        instance_path=str(settings["PORTAL_INSTANCE_DIR"]),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.request_class = PortalRequest
    app.json = GuardedJSONProvider(app)
    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.config.update(settings)
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SQLALCHEMY_DATABASE_URI=settings["PORTAL_DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        BABEL_DEFAULT_LOCALE=settings["PORTAL_DEFAULT_LOCALE"],
        BABEL_DEFAULT_TIMEZONE=settings["PORTAL_TIMEZONE"],
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "portal" / "translations"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=(
            settings["PORTAL_ATTACHMENT_MAX_MB"] * settings["PORTAL_ATTACHMENTS_PER_MESSAGE"] + 1
        )
        * 1024
        * 1024,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.config.update({k: v for k, v in (config or {}).items() if not k.startswith("PORTAL_")})

    from portal.accounts import views as account_views
    from portal.admin import views as admin_views
    from portal.analytics import services as analytics
    from portal.api_v1 import views as api_v1_views
    from portal.api_v1 import webhooks
    from portal.calendar.services import build_policy
    from portal.console import views as console_views
    from portal.editor import views as editor_views
    from portal.kb import api as kb_api
    from portal.kb import views as kb_views
    from portal.kb.services import KnowledgeBase, warm_up_on_first_request
    from portal.mail import notifications
    from portal.scope import RulesError, load_rules
    from portal.site import health
    from portal.site import views as site_views
    from portal.tickets import storage as attachment_storage
    from portal.tickets import views as ticket_views
    from portal.tickets.categories import load_categories
    from portal.wizard import views as wizard_views

    build_policy(app.config)  # a wrong SLA setting stops start-up with its name
    try:  # so does a broken scope rules file
        load_rules(settings["PORTAL_SCOPE_RULES_FILE"])
    except (OSError, RulesError) as exc:
        raise ConfigError(f"PORTAL_SCOPE_RULES_FILE: {exc}") from None
    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=site_views.choose_locale)
    login_manager.init_app(app)
    app.config.update(
        RATELIMIT_ENABLED=True,  # PORTAL_RATE_LIMITS is checked per request (extensions.py)
        RATELIMIT_STORAGE_URI=settings["PORTAL_REDIS_URL"] or "memory://",
        RATELIMIT_HEADERS_ENABLED=True,
    )
    limiter.init_app(app)
    security.init_app(app)
    login_manager.login_view = "accounts.signin"
    app.extensions["kb"] = KnowledgeBase(
        settings["PORTAL_ARTICLES_DIR"],
        settings["PORTAL_INDEX_DIR"],
        settings["PORTAL_SEARCH_VECTORS"],
    )
    warm_up_on_first_request(app)
    app.extensions["ticket_categories"] = load_categories(settings["PORTAL_CATEGORIES_FILE"])
    attachment_storage.init_app(app)  # s3 without boto3 or a bucket stops start-up
    # What happens elsewhere when a ticket changes, or a reader searches and reads.
    webhooks.subscribe()
    notifications.subscribe()
    analytics.subscribe(app)
    for module in (
        health,
        site_views,
        kb_views,
        kb_api,
        account_views,
        wizard_views,
        ticket_views,
        console_views,
        admin_views,
        editor_views,
        api_v1_views,
    ):
        app.register_blueprint(module.bp)
    # The limiter checks inside the wrapper it returns: the wrapper becomes the view.
    search_page = app.view_functions["kb.search"]
    app.view_functions["kb.search"] = limiter.limit(SEARCH_PAGE_RATE_LIMIT)(search_page)
    return app
