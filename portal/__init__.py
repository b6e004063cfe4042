"""Self-service support portal."""

from flask import Flask

from portal.config import PROJECT_ROOT, load_settings, secret_key
from portal.extensions import babel, csrf, db


def create_app(config: dict | None = None) -> Flask:
    """Build the application from `PORTAL_*` settings, overridden by `config`."""
    settings = load_settings(config)
    app = Flask(
        __name__,
        instance_path=str(settings["PORTAL_INSTANCE_DIR"]),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(settings)
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SQLALCHEMY_DATABASE_URI=settings["PORTAL_DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        BABEL_DEFAULT_LOCALE=settings["PORTAL_DEFAULT_LOCALE"],
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "portal" / "translations"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.config.update({k: v for k, v in (config or {}).items() if not k.startswith("PORTAL_")})

    from portal.kb import api as kb_api
    from portal.kb import views as kb_views
    from portal.kb.services import open_index
    from portal.site import views as site_views

    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=site_views.choose_locale)
    app.extensions["search_index"] = open_index(
        settings["PORTAL_ARTICLES_DIR"], settings["PORTAL_INDEX_DIR"]
    )
    app.register_blueprint(site_views.bp)
    app.register_blueprint(kb_views.bp)
    app.register_blueprint(kb_api.bp)
    return app
